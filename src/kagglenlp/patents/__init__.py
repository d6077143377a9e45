"""USPPPM (patent phrase matching): a transformers cross-encoder over anchor-grouped folds."""
