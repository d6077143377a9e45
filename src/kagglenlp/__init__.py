"""kagglenlp: a Kaggle NLP competition kit (USPPPM cross-encoders, IMDb ULMFiT, Kaggle plumbing)."""

__version__ = "0.1.0"
