"""Pooling, losses and the score's postprocessing: the building blocks the recipes share (torch imported lazily).

- `mean_pool` / `pool_states`: one vector per sequence from token states (`cls`, `mean` over real tokens, learned
  `attention`, or `lstm`: a BiLSTM then attention, `tricks.layers.LstmAttentionPool`); padding never counts;
- `pair_loss`: MSE on the raw output, BCE with logits against the score in [0, 1], or `pearson` (1 - the batch's
  Pearson correlation, `tricks.layers.pearson_loss`);
- `postprocess`: raw model outputs into the score's scale (a sigmoid after `bce` and `pearson`: the Pearson loss
  fixes no scale, so its outputs are squashed into (0, 1) before the submission's clipping).
"""

import numpy as np

__all__ = ["POOLS", "LOSSES", "SIGMOID_LOSSES", "mean_pool", "pool_states", "pair_loss", "postprocess"]

POOLS = ("cls", "mean", "attention", "lstm")
LOSSES = ("mse", "bce", "pearson")
SIGMOID_LOSSES = ("bce", "pearson")  # losses whose raw outputs get a sigmoid at prediction


def mean_pool(states, mask):
    "Mean of `states` (batch, tokens, dim) over the tokens where `mask` is 1; padding never counts."
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)


def pool_states(states, mask, pool, attn=None):
    """One vector per sequence from token `states`: `cls` (first token), `mean`, `attention` (scores from `attn`) or
    `lstm` (`attn` is then a `LstmAttentionPool` module)."""
    import torch

    if pool == "lstm":
        return attn(states, mask)
    if pool == "cls":
        return states[:, 0]
    if pool == "mean":
        return mean_pool(states, mask)
    w = attn(states).squeeze(-1).masked_fill(mask == 0, torch.finfo(states.dtype).min)
    return (torch.softmax(w, dim=1).unsqueeze(-1) * states).sum(1)


def pair_loss(logits, labels, loss):
    "MSE on the output, BCE with logits against the score in [0, 1], or 1 - the batch's Pearson correlation."
    import torch.nn.functional as F

    labels = labels.to(logits.dtype).view(-1)
    if loss == "pearson":
        from ..tricks.layers import pearson_loss

        return pearson_loss(logits, labels)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.mse_loss(logits, labels)


def postprocess(fmt, raw):
    "Predictions in the score's scale from a fold model's raw outputs (a sigmoid after `bce` or `pearson`)."
    raw = np.asarray(raw, dtype=float).reshape(-1)
    return 1 / (1 + np.exp(-raw)) if fmt.get("loss") in SIGMOID_LOSSES else raw
