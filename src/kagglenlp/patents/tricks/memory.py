"""A training-memory estimate for one GPU (weights, gradients, AdamW states, activations); activations measured.

An ESTIMATE, not a measurement of a GPU run: mixed precision as HF `Trainer` runs it (fp32 weights, fp32 gradients,
two fp32 AdamW states, fp16 copies of the weights inside autocast) plus the activations kept for the backward pass:
`layers x batch x seq x act_bytes` without gradient checkpointing; with it, each layer keeps only its input (fp32
under autocast: `4 x hidden` bytes per token, as measured) and one layer's activations exist at a time during
recomputation. `act_bytes` (per token per layer) defaults to the Korthikanti et al. (2022) transformer-layer
formula `34 h + 5 a s` (fp16, dropout masks); `saved_activation_bytes` measures it for a given model (the bytes
autograd saves for backward per extra sequence), and `docs/toolbox.md` gives the figures measured with it
(`scripts/toolbox_memory.py`). The CUDA context, allocator fragmentation and evaluation batches are not included:
keep a margin.
"""

__all__ = [
    "GIB",
    "enable_checkpointing",
    "layer_act_bytes",
    "estimate_training_memory",
    "saved_activation_bytes",
]

GIB = 2**30


def enable_checkpointing(model):
    """Activation (gradient) checkpointing on the HF backbone of `model` (its `backbone`, or `model` itself), non-
    reentrant; the kit's head models are no `PreTrainedModel`, so the `activation_checkpointing` field cannot reach
    them. Returns the backbone's `is_activation_checkpointing`."""
    bb = getattr(model, "backbone", model)
    bb.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    return bb.is_activation_checkpointing


def layer_act_bytes(hidden, heads, seq):
    "Activation bytes per token per transformer layer in fp16 (Korthikanti et al. 2022): `34 h + 5 a s`."
    return 34 * hidden + 5 * heads * seq


def estimate_training_memory(
    n_params,
    layers,
    hidden,
    heads,
    seq,
    batch,
    grad_ckpt=False,
    act_bytes=None,
    ema=False,
):
    """Estimated training memory in GiB by part (`weights`, `grads`, `adamw`, `fp16_copies`, `activations`, `ema`,
    `total`) for `n_params` parameters, `layers` x `hidden` (`heads` heads), `batch` sequences of `seq` tokens per
    device; `ema` adds the average and the stash of the training weights `EmaCallback` holds (8 B/param)."""
    act = act_bytes or layer_act_bytes(hidden, heads, seq)
    tokens = batch * seq
    acts = (layers * 4 * hidden + act) * tokens if grad_ckpt else layers * act * tokens
    parts = {
        "weights": 4 * n_params,
        "grads": 4 * n_params,
        "adamw": 8 * n_params,
        "fp16_copies": 2 * n_params,
        "activations": acts,
        "ema": 8 * n_params if ema else 0,
    }
    out = {k: v / GIB for k, v in parts.items()}
    out["total"] = sum(out.values())
    return out


def saved_activation_bytes(model, make_batch, seq, dtype=None):
    """Bytes autograd saves for backward per token: one forward of `make_batch(2)` minus one of `make_batch(1)`
    (the weights cancel), divided by `seq`; under `torch.autocast('cpu', dtype)` when `dtype` is given (e.g.
    bfloat16)."""
    import contextlib

    import torch

    def saved(batch):
        seen = {}

        def pack(t):
            s = t.untyped_storage()
            seen[s.data_ptr()] = s.nbytes()
            return t

        ctx = torch.autocast("cpu", dtype=dtype) if dtype else contextlib.nullcontext()
        with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t), ctx:
            out = model(**batch)
        del out
        return sum(seen.values())

    model.train()
    return (saved(make_batch(2)) - saved(make_batch(1))) / seq
