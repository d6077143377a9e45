"""The heads the recipes put on a backbone: pooling, head layers, losses (torch is imported here: the recipes
import this module only when they build or train a model, so `--help` stays light).

- `mean_pool` / `pool_states`: one vector per sequence from token states (`cls`, `mean` over real tokens, learned
  `attention` (`masked_attention_pool`), or `lstm`: a BiLSTM then attention, `LstmAttentionPool`); padding never
  counts;
- `MultiSampleDropout(dim, n, p)`: the mean of one linear layer over `n` dropout masks (12th place); in eval mode
  it is the linear layer itself;
- `LstmAttentionPool(dim)`: a BiLSTM over the token states (packed, so padding never enters it), then attention
  weights over the real tokens only (1st place); expects right padding, as the HF tokenizers here produce;
- `pair_loss`: MSE on the raw output, BCE with logits against the score in [0, 1], or `pearson` (`pearson_loss`:
  1 - the batch's Pearson correlation, 1st place);
- `freeze_embeddings(model)`: the backbone's embedding layer stops training (1st place).

The choices (`POOLS`, `LOSSES`) and the score's postprocessing live in `models/recipe.py`, which imports no torch.
"""

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = [
    "mean_pool",
    "masked_attention_pool",
    "pool_states",
    "MultiSampleDropout",
    "LstmAttentionPool",
    "pearson_loss",
    "pair_loss",
    "freeze_embeddings",
]


def mean_pool(states, mask):
    "Mean of `states` (batch, tokens, dim) over the tokens where `mask` is 1; padding never counts."
    m = mask.unsqueeze(-1).to(states.dtype)
    return (states * m).sum(1) / m.sum(1).clamp(min=1e-9)


def masked_attention_pool(states, mask, scorer):
    """Softmax-weighted sum of `states` (batch, tokens, dim) with weights from `scorer`, over tokens where `mask`
    is 1."""
    w = scorer(states).squeeze(-1).float().masked_fill(mask == 0, float("-inf"))
    return (torch.softmax(w, dim=1).unsqueeze(-1).to(states.dtype) * states).sum(1)


def pool_states(states, mask, pool, attn=None):
    """One vector per sequence from token `states`: `cls` (first token), `mean`, `attention` (scores from
    `attn`) or `lstm` (`attn` is then a `LstmAttentionPool` module)."""
    if pool == "lstm":
        return attn(states, mask)
    if pool == "cls":
        return states[:, 0]
    if pool == "mean":
        return mean_pool(states, mask)
    return masked_attention_pool(states, mask, attn)


class MultiSampleDropout(nn.Module):
    """One `nn.Linear(dim, out)` averaged over `n` dropout masks of rate `p` (identical to the linear layer in
    eval)."""

    def __init__(self, dim, out=1, n=5, p=0.5):
        super().__init__()
        self.n, self.dropout, self.linear = n, nn.Dropout(p), nn.Linear(dim, out)

    def forward(self, x):
        "The mean over `n` dropout masks of the linear layer's output."
        if not self.training:
            return self.linear(x)
        return torch.stack([self.linear(self.dropout(x)) for _ in range(self.n)]).mean(0)


class LstmAttentionPool(nn.Module):
    "BiLSTM (`hidden` // 2 per direction, default `dim`) over the real tokens, then masked attention pooling."

    def __init__(self, dim, hidden=None):
        super().__init__()
        hidden = hidden or dim
        self.out_dim = hidden
        self.lstm = nn.LSTM(dim, hidden // 2, batch_first=True, bidirectional=True)
        self.scorer = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, states, mask):
        """One `out_dim` vector per sequence of `states` (batch, tokens, dim); `mask` (batch, tokens) marks real
        tokens."""
        lengths = mask.sum(1).clamp(min=1).cpu()
        packed = pack_padded_sequence(states.float(), lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = pad_packed_sequence(out, batch_first=True, total_length=states.shape[1])
        return masked_attention_pool(out, mask, self.scorer)


def pearson_loss(preds, targs, eps=1e-8):
    "1 - the Pearson correlation of `preds` and `targs` over the batch (both flattened; needs 2+ rows)."
    dt = torch.promote_types(preds.dtype, torch.float32)  # fp16 outputs are scored in fp32
    p, t = preds.reshape(-1).to(dt), targs.reshape(-1).to(dt)
    p, t = p - p.mean(), t - t.mean()
    return 1 - (p * t).sum() / (p.norm() * t.norm() + eps)


def pair_loss(logits, labels, loss):
    "MSE on the output, BCE with logits against the score in [0, 1], or 1 - the batch's Pearson correlation."
    labels = labels.to(logits.dtype).view(-1)
    if loss == "pearson":
        return pearson_loss(logits, labels)
    if loss == "bce":
        return F.binary_cross_entropy_with_logits(logits, labels)
    return F.mse_loss(logits, labels)


def freeze_embeddings(model):
    """Stop training the embedding layer of `model` (a head model's `backbone`, or an HF encoder): every
    parameter of its `embeddings` module (word, position, type, LayerNorm), or of its input embeddings when it
    has none."""
    bb = getattr(model, "backbone", model)
    emb = getattr(bb, "embeddings", None) or bb.get_input_embeddings()
    for p in emb.parameters():
        p.requires_grad_(False)
    return [n for n, p in bb.named_parameters() if not p.requires_grad]
