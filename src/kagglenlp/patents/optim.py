"""Optimizer parameter groups (the head's own LR, layer-wise LR decay) and the `Trainer` subclass that uses them.

The top backbone layer gets `--lr`, each layer below `--lr-decay` times the one above, the embeddings last;
everything outside `model.backbone` (the head) gets `--head-lr`. Any recipe whose model has a `backbone`
attribute can train with `head_trainer_class(head_lr, lr_decay)`; `adversarial_class(base, cfg)` adds `--adv`
(FGM or AWP, `tricks.adversarial.AdversarialMixin`) to such a trainer class.
"""

import re

__all__ = ["param_groups", "head_trainer_class", "adversarial_class"]


def _depth(name, n_layers):
    "Depth of backbone parameter `name`: 0 for the embeddings, i+1 for layer i, `n_layers + 1` above the layers."
    if "embeddings" in name and "rel_embeddings" not in name:
        return 0
    m = re.search(r"\.layers?\.(\d+)\.", name)
    return int(m.group(1)) + 1 if m else n_layers + 1


def param_groups(model, lr, head_lr=None, lr_decay=1.0, weight_decay=0.0, no_decay=()):
    """Optimizer parameter groups: backbone parameters at `lr * lr_decay ** (layers above)`, the head (everything
    outside `model.backbone`) at `head_lr` (default `lr`); names in `no_decay` get no weight decay."""
    n_layers = getattr(model.backbone.config, "num_hidden_layers", 0)
    groups = {}
    for name, p in model.named_parameters():
        if not p.requires_grad:
            continue
        if name.startswith("backbone."):
            g_lr = lr * lr_decay ** max(n_layers - _depth(name, n_layers), 0)
        else:
            g_lr = head_lr or lr
        wd = 0.0 if name in no_decay else weight_decay
        groups.setdefault((g_lr, wd), []).append(p)
    return [{"params": ps, "lr": g_lr, "weight_decay": wd} for (g_lr, wd), ps in groups.items()]


def head_trainer_class(head_lr=None, lr_decay=1.0):
    "A `FoldTrainer` subclass whose optimizer uses `param_groups` (the head's LR and the layer-wise decay)."
    from .trainer import fold_trainer_class

    class HeadTrainer(fold_trainer_class()):
        "HF `Trainer` with a separate head learning rate and layer-wise learning-rate decay."

        def create_optimizer(self, model=None):
            "AdamW (the args' optimizer) over `param_groups`."
            if self.optimizer is None:
                m = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(m))
                no_decay = [n for n, _ in m.named_parameters() if n not in decay]
                groups = param_groups(m, self.args.learning_rate, head_lr, lr_decay, self.args.weight_decay, no_decay)
                cls, kw = self.get_optimizer_cls_and_kwargs(self.args, m)
                self.optimizer = cls(groups, **kw)
            return self.optimizer

    return HeadTrainer


def adversarial_class(base, adv, adv_start=0.0, adv_lr=1.0, adv_eps=0.01):
    "`base` (a `Trainer` class) with `AdversarialMixin`'s FGM or AWP `adv` from epoch `adv_start`; `base` for 'none'."
    if adv in (None, "none"):
        return base
    from .tricks.adversarial import AdversarialMixin

    class AdversarialTrainer(AdversarialMixin, base):
        "The head trainer with an adversarial second forward/backward per step."

        def __init__(self, *args, **kwargs):
            super().__init__(*args, adv=adv, adv_start=adv_start, adv_lr=adv_lr, adv_eps=adv_eps, **kwargs)

    return AdversarialTrainer
