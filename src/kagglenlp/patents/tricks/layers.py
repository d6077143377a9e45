"""Cross-encoder head pieces: multi-sample dropout, BiLSTM + attention pooling, the Pearson loss, frozen embeddings.

- `MultiSampleDropout(dim, n, p)`: the mean of one linear layer over `n` dropout masks (12th place); in eval mode it is
  the linear layer itself;
- `LstmAttentionPool(dim)`: a BiLSTM over the token states (packed, so padding never enters it), then attention
  weights over the real tokens only (1st place); expects right padding, as the HF tokenizers here produce;
- `pearson_loss(preds, targs)`: 1 - the Pearson correlation over the batch (1st place);
- `freeze_embeddings(model)`: the backbone's embedding layer stops training (1st place).
"""

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

__all__ = ["MultiSampleDropout", "LstmAttentionPool", "masked_attention_pool", "pearson_loss", "freeze_embeddings"]


class MultiSampleDropout(nn.Module):
    "One `nn.Linear(dim, out)` averaged over `n` dropout masks of rate `p` (identical to the linear layer in eval)."

    def __init__(self, dim, out=1, n=5, p=0.5):
        super().__init__()
        self.n, self.dropout, self.linear = n, nn.Dropout(p), nn.Linear(dim, out)

    def forward(self, x):
        "The mean over `n` dropout masks of the linear layer's output."
        if not self.training:
            return self.linear(x)
        return torch.stack([self.linear(self.dropout(x)) for _ in range(self.n)]).mean(0)


def masked_attention_pool(states, mask, scorer):
    "Softmax-weighted sum of `states` (batch, tokens, dim) with weights from `scorer`, over tokens where `mask` is 1."
    w = scorer(states).squeeze(-1).float().masked_fill(mask == 0, float("-inf"))
    return (torch.softmax(w, dim=1).unsqueeze(-1).to(states.dtype) * states).sum(1)


class LstmAttentionPool(nn.Module):
    "BiLSTM (`hidden` // 2 per direction, default `dim`) over the real tokens, then masked attention pooling."

    def __init__(self, dim, hidden=None):
        super().__init__()
        hidden = hidden or dim
        self.out_dim = hidden
        self.lstm = nn.LSTM(dim, hidden // 2, batch_first=True, bidirectional=True)
        self.scorer = nn.Sequential(nn.Linear(hidden, hidden), nn.Tanh(), nn.Linear(hidden, 1))

    def forward(self, states, mask):
        "One `out_dim` vector per sequence of `states` (batch, tokens, dim); `mask` (batch, tokens) marks real tokens."
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


def freeze_embeddings(model):
    """Stop training the embedding layer of `model` (a head model's `backbone`, or an HF encoder): every parameter of
    its `embeddings` module (word, position, type, LayerNorm), or of its input embeddings when it has none."""
    bb = getattr(model, "backbone", model)
    emb = getattr(bb, "embeddings", None) or bb.get_input_embeddings()
    for p in emb.parameters():
        p.requires_grad_(False)
    return [n for n, p in bb.named_parameters() if not p.requires_grad]
