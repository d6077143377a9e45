"""Kaggle plumbing: code dataset with offline wheels, kernels (metadata, push, status, output), submissions."""
