"""Measure the activation bytes per token that autograd saves for backward (`tricks.memory.saved_activation_bytes`).

Runs on the CPU in seconds: MiniLM (the `minilm` alias, real weights) and a deberta-v3-large-shaped encoder with random
weights and 1 or 2 layers (the per-layer figure is the difference; sizes do not depend on weight values), in fp32 and
under bf16 autocast (2 bytes, like fp16), with and without gradient checkpointing. Prints one JSON line per case and
the memory estimate for deberta-v3-large built from the measured per-layer figure.
Usage: `python scripts/toolbox_memory.py [--seq 300]`.
"""

import argparse
import json

import torch
from transformers import AutoModel, DebertaV2Config, DebertaV2Model

from kagglenlp.patents.models.backbone import resolve_model
from kagglenlp.patents.tricks.memory import (
    enable_checkpointing,
    estimate_training_memory,
    layer_act_bytes,
    saved_activation_bytes,
)

LARGE = dict(  # microsoft/deberta-v3-large's config.json values
    hidden_size=1024,
    num_hidden_layers=24,
    num_attention_heads=16,
    intermediate_size=4096,
    max_position_embeddings=512,
    relative_attention=True,
    position_buckets=256,
    norm_rel_ebd="layer_norm",
    share_att_key=True,
    pos_att_type=["p2c", "c2p"],
    max_relative_positions=-1,
    type_vocab_size=0,
    position_biased_input=False,
    layer_norm_eps=1e-7,
    vocab_size=128100,
)


def per_token(model, seq, dtype=None, ckpt=False):
    "Saved bytes per token of one forward of `model` on `seq`-token inputs."
    if ckpt:
        enable_checkpointing(model)
    mk = lambda b: {"input_ids": torch.full((b, seq), 5), "attention_mask": torch.ones(b, seq, dtype=torch.long)}  # noqa: E731
    return saved_activation_bytes(model, mk, seq, dtype)


def large(n_layers):
    "A deberta-v3-large-shaped encoder with `n_layers` layers and a small vocabulary, random weights."
    torch.manual_seed(0)
    return DebertaV2Model(DebertaV2Config(**{**LARGE, "num_hidden_layers": n_layers, "vocab_size": 1000}))


def main(seq=300):
    with torch.device("meta"):
        n_params = sum(p.numel() for p in DebertaV2Model(DebertaV2Config(**LARGE)).parameters())
    mini = AutoModel.from_pretrained(resolve_model("minilm"))
    for dtype in (None, torch.bfloat16):
        for ckpt in (False, True):
            name = f"{'bf16' if dtype else 'fp32'}{'+ckpt' if ckpt else ''}"
            m6 = per_token(AutoModel.from_pretrained(resolve_model("minilm")), seq, dtype, ckpt)
            d1, d2 = per_token(large(1), seq, dtype, ckpt), per_token(large(2), seq, dtype, ckpt)
            row = {
                "case": name,
                "seq": seq,
                "minilm_bytes_per_token": m6,
                "minilm_per_layer": m6 / mini.config.num_hidden_layers,
                "deberta_large_per_layer": d2 - d1,
                "deberta_large_outside_layers": 2 * d1 - d2,
            }
            print(json.dumps(row), flush=True)
            if name == "bf16":
                act = d2 - d1
    print(json.dumps({"deberta_v3_large_params": n_params, "korthikanti_per_layer": layer_act_bytes(1024, 16, seq)}))
    for ck in (False, True):
        for b in (4, 8, 16, 32):
            est = estimate_training_memory(n_params, 24, 1024, 16, seq, b, grad_ckpt=ck, act_bytes=act)
            print(json.dumps({"batch": b, "grad_ckpt": ck, **{k: round(v, 2) for k, v in est.items()}}))


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seq", type=int, default=300)
    main(p.parse_args().seq)
