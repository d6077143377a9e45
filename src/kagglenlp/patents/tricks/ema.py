"""An exponential moving average (EMA) of the weights as a `TrainerCallback`: evaluated, saved and kept at the end.

`EmaCallback(decay)` keeps `torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))`,
started from the initial weights (`e_0 = w_0`) and updated after every optimizer step (`e_t = decay e_{t-1} + (1 -
decay) w_t`). Before each evaluation or checkpoint it copies the EMA into the model (so `eval_pearson`, the best
checkpoint and `load_best_model_at_end` all see EMA weights) and puts the training weights back at the next step.
At the end of training the model holds the EMA weights (or the best EMA checkpoint that `load_best_model_at_end`
loaded).
"""

import torch
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn
from transformers import TrainerCallback

__all__ = ["EmaCallback"]


def _copy_params(dst, src):
    "Copy the parameter values of module `src` into module `dst` in place (same architecture)."
    with torch.no_grad():
        for d, s in zip(dst.parameters(), src.parameters()):
            d.copy_(s)


class EmaCallback(TrainerCallback):
    "EMA of the model's weights with `decay`, swapped in for evaluation, checkpoints and the end of training."

    def __init__(self, decay=0.999):
        if not 0 < decay < 1:
            raise ValueError(f"EMA decay must be in (0, 1), got {decay}")
        self.decay, self.ema, self.stash = decay, None, None

    def on_train_begin(self, args, state, control, model=None, **kw):
        "Start the average from the initial weights."
        self.ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(self.decay))
        self.ema.update_parameters(model)

    def _swap_in(self, model):
        "Stash the training weights and put the EMA weights into `model` (once)."
        if self.stash is None:
            self.stash = [p.detach().clone() for p in model.parameters()]
            _copy_params(model, self.ema.module)

    def _swap_out(self, model):
        "Put the stashed training weights back into `model`."
        if self.stash is not None:
            with torch.no_grad():
                for p, s in zip(model.parameters(), self.stash):
                    p.copy_(s)
            self.stash = None

    def on_step_begin(self, args, state, control, model=None, **kw):
        "Train on the training weights."
        self._swap_out(model)

    def on_step_end(self, args, state, control, model=None, **kw):
        "Update the average; swap it in when this step evaluates or saves (the default flow has already decided)."
        self.ema.update_parameters(model)
        if control.should_evaluate or control.should_save:
            self._swap_in(model)

    def on_epoch_end(self, args, state, control, model=None, **kw):
        "Per-epoch evaluation or saving also sees the EMA weights."
        if control.should_evaluate or control.should_save:
            self._swap_in(model)

    def on_train_end(self, args, state, control, model=None, **kw):
        "Leave the EMA weights in the model, unless the best (EMA) checkpoint was loaded back."
        if args.load_best_model_at_end and state.best_model_checkpoint:
            self.stash = None
            return
        self.stash = None
        _copy_params(model, self.ema.module)
