"""Adversarial training for HF `Trainer`: FGM (perturbed word embeddings) and AWP (perturbed weights).

`AdversarialMixin` overrides `Trainer.training_step`: after the plain forward/backward it perturbs the model, runs
a second forward/backward through the Trainer's own `training_step` (so mixed precision, the loss scaler and
gradient accumulation apply unchanged), and restores the perturbed tensors exactly.
- `fgm`: word embeddings += `adv_eps * g / ||g||` (g their gradient); the step's gradient is plain + adversarial.
- `awp`: every trainable tensor named `*weight*` += `adv_lr * g / ||g|| * ||w||`, clamped to `w ± adv_eps * |w|`;
  the step's gradient is the adversarial one only (the plain one is discarded, as the Kaggle AWP code's
  `zero_grad`); with gradient accumulation the direction is the micro-batch's own gradient and earlier
  micro-batches' gradients are kept (a copy of the gradients is held for that, only from the second micro-batch of
  an accumulation on).
Both are active from epoch `adv_start` on (`state.epoch`, counted from 0: 1 starts with the second epoch).
"""

from contextlib import contextmanager

import torch

__all__ = ["ADV", "fgm_perturb", "awp_perturb", "AdversarialMixin"]

ADV = ("fgm", "awp")
TINY = 1e-6


def _finite_norm(t):
    "The L2 norm of tensor `t` as a float, or None when it is zero or not finite (an fp16 overflow step)."
    n = float(torch.linalg.vector_norm(t.float()))
    return n if n > 0 and torch.isfinite(torch.tensor(n)) else None


@contextmanager
def fgm_perturb(model, eps=1.0):
    """Within the block, `model`'s input (word) embeddings moved by `eps` along their normalised gradient; then
    restored."""
    w = getattr(model, "backbone", model).get_input_embeddings().weight  # a head model's backbone, or the model
    n = _finite_norm(w.grad) if w.grad is not None else None
    backup = w.data.clone() if n else None
    if n:
        w.data.add_(w.grad, alpha=eps / n)
    try:
        yield
    finally:
        if backup is not None:
            w.data.copy_(backup)


def _awp_params(model, name="weight"):
    "`(name, param)` of the trainable tensors with a gradient whose name contains `name` (AWP's targets)."
    return [(n, p) for n, p in model.named_parameters() if p.requires_grad and p.grad is not None and name in n]


@contextmanager
def awp_perturb(model, adv_lr=1.0, adv_eps=0.01, name="weight"):
    """Within the block, each `*weight*` tensor w of `model` moved by `adv_lr * g / ||g|| * ||w||` and clamped to
    `w ± adv_eps * |w|` (g its gradient); the original values are copied back afterwards (bit-exact)."""
    backup = {}
    for n, p in _awp_params(model, name):
        gn = _finite_norm(p.grad)
        if gn is None:
            continue
        w0 = p.data.clone()
        backup[n] = (p, w0)
        p.data.add_(p.grad.to(p.dtype), alpha=adv_lr * float(torch.linalg.vector_norm(w0.float())) / (gn + TINY))
        lim = adv_eps * w0.abs()
        p.data.copy_(torch.minimum(torch.maximum(p.data, w0 - lim), w0 + lim))
    try:
        yield
    finally:
        for p, w0 in backup.values():
            p.data.copy_(w0)


class AdversarialMixin:
    """`Trainer` mixin (put it first: `class T(AdversarialMixin, HeadTrainer)`) adding FGM or AWP to
    `training_step`; keywords `adv` ('fgm'|'awp'|None), `adv_start` (epoch), `adv_lr` (AWP step), `adv_eps` (FGM
    step / AWP bound)."""

    def __init__(self, *args, adv=None, adv_start=0.0, adv_lr=1.0, adv_eps=0.01, **kwargs):
        super().__init__(*args, **kwargs)
        if adv not in (None, *ADV):
            raise ValueError(f"adv must be one of {ADV} or None, got {adv!r}")
        self.adv, self.adv_start, self.adv_lr, self.adv_eps = adv, adv_start, adv_lr, adv_eps

    def adv_active(self):
        "True when an attack is configured and training has reached epoch `adv_start`."
        return self.adv is not None and (self.state.epoch or 0.0) >= self.adv_start

    def training_step(self, model, inputs, num_items_in_batch=None):
        """The plain step, then (once active) an adversarial forward/backward on the perturbed model; the plain
        loss."""
        if not self.adv_active():
            return super().training_step(model, inputs, num_items_in_batch)
        m = self.accelerator.unwrap_model(model)
        if self.adv == "fgm":
            loss = super().training_step(model, inputs, num_items_in_batch)
            with fgm_perturb(m, self.adv_eps):
                super().training_step(model, inputs, num_items_in_batch)
            return loss
        # earlier accumulation micro-steps
        prev = {p: p.grad.clone() for p in m.parameters() if p.grad is not None}
        loss = super().training_step(model, inputs, num_items_in_batch)
        for p, g in prev.items():  # the attack direction is this batch's own gradient
            p.grad.sub_(g)
        with awp_perturb(m, self.adv_lr, self.adv_eps):
            for p in m.parameters():  # drop this batch's plain gradient, keep what earlier micro-steps accumulated
                p.grad = prev.get(p)
            super().training_step(model, inputs, num_items_in_batch)
        return loss
