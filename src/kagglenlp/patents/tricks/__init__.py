"""The competition toolbox (issue 16): self-contained training tricks of top USPPPM solutions, as small modules.

Each module depends only on numpy, torch and transformers (import them lazily from the recipe: most import torch):
- `best`: several evaluations per epoch with the best checkpoint by Pearson kept (`TrainingArguments` fields);
- `adversarial`: FGM and AWP as a `Trainer` mixin overriding `training_step`;
- `ema`: an exponential moving average of the weights as a `TrainerCallback` (evaluated and saved with EMA
  weights);
- `siblings`: the `cpc-siblings` text with a new sibling order (augmentation, TTA) and a truncation count;
- `memory`: a training-memory estimate (weights, gradients, AdamW, activations) and an activation measurement.
The head pieces (multi-sample dropout, BiLSTM + attention pooling, the Pearson loss, frozen embeddings) live with
the other heads in `models/heads.py`; min-max scaled and fixed-weight blends in `blend.py`; the `--full` model's
steps and weight in `fold.py`. See `docs/toolbox.md`.
"""
