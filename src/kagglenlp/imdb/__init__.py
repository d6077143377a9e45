"""IMDb sentiment with fastai ULMFiT: general LM -> fine-tuned LM -> encoder -> classifier."""
