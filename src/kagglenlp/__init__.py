"""kagglenlp: a Kaggle NLP competition kit (USPPPM bi- and cross-encoder folds, IMDb ULMFiT, Kaggle plumbing)."""

__version__ = "0.1.0"
