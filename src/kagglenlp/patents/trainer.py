"""HF `Trainer` pieces for one fold: tokenize once, `TrainingArguments` from the config, the order-keeping trainer,
optimizer parameter groups (the head's own LR, layer-wise LR decay) and the `Trainer` subclasses that use them.

The top backbone layer gets `--lr`, each layer below `--lr-decay` times the one above, the embeddings last;
everything outside `model.backbone` (the head) gets `--head-lr`. Any recipe whose model has a `backbone`
attribute can train with `head_trainer_class(head_lr, lr_decay)`; `adversarial_class(base, cfg)` adds `--adv`
(FGM or AWP, `tricks.adversarial.AdversarialMixin`) to such a trainer class.
"""

import re

import numpy as np

from ..errors import require
from .inputs import MAX_LEN
from .metric import compute_metrics
from .models.infer import MODEL_INPUTS, bf16_ok

__all__ = [
    "fold_trainer_class",
    "precision_kwargs",
    "tokenize",
    "training_arguments",
    "make_trainer",
    "predict_ds",
    "param_groups",
    "head_trainer_class",
    "adversarial_class",
]


def precision_kwargs():
    "Mixed precision from the device: bf16 (or fp16) on a GPU, fp32 on the CPU (no pinned memory there)."
    import torch

    if not torch.cuda.is_available():
        return {"use_cpu": True, "dataloader_pin_memory": False}  # use_cpu: torchrun on CPUs gets DDP (gloo)
    return {"bf16": True} if bf16_ok() else {"fp16": True}


def tokenize(tok, inputs, labels=None, ids=None, max_len=MAX_LEN):
    """A `datasets.Dataset` of `inputs` tokenized by `tok` once, with a `length` column (the collator pads per
    batch)."""
    from datasets import Dataset

    cols = {"input": list(inputs)}
    if labels is not None:
        cols["labels"] = np.asarray(labels, dtype=np.float32)
    if ids is not None:
        cols["id"] = list(ids)
    ds = Dataset.from_dict(cols)

    def enc(b):
        out = tok(b["input"], truncation=True, max_length=max_len)
        return {**out, "length": [len(x) for x in out["input_ids"]]}  # for length-grouped batches

    return ds.map(enc, batched=True, remove_columns=["input"], desc="tokenizing")


def training_arguments(cfg, out_dir, n_train=None, **overrides):
    """`TrainingArguments` for config `cfg` (the seed's recipe: cosine schedule, warmup ratio, eval every epoch, no
    checkpoints), every field by keyword; `overrides` win (e.g. `max_steps=0` for inference only). With
    `--evals-per-epoch`, `n_train` (the fold's training rows) sets the evaluation interval (`best_args`)."""
    from transformers import TrainingArguments

    per_epoch = cfg.max_steps < 0  # smoke runs (`max_steps`) log every step and skip the per-epoch eval
    kw = dict(
        output_dir=str(out_dir),
        learning_rate=cfg.eff_lr,
        per_device_train_batch_size=cfg.bs,
        per_device_eval_batch_size=cfg.eff_eval_bs,
        gradient_accumulation_steps=cfg.grad_accum,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        weight_decay=cfg.wd,
        lr_scheduler_type="cosine",
        warmup_steps=cfg.warmup,  # transformers 5: a float below 1 is a ratio of all steps
        seed=cfg.seed,
        torch_compile=cfg.compile,
        train_sampling_strategy="group_by_length",  # batches of similar length: less padding, same epochs
        dataloader_num_workers=0,  # tokenized once up front; collating a batch is cheaper than a worker process
        eval_strategy="epoch" if per_epoch else "no",
        logging_strategy="epoch" if per_epoch else "steps",
        logging_steps=1,
        save_strategy="no",
        report_to=cfg.report_to,  # a tracker's run is opened per fold by `tracking.tracking_run`
        disable_tqdm=False,
        **precision_kwargs(),
    )
    return TrainingArguments(**{**kw, **best_args(cfg, n_train), **overrides})


def best_args(cfg, n_train):
    """The `TrainingArguments` fields of `--evals-per-epoch` (`tricks.best`): `cfg.evals_per_epoch` evaluations per
    epoch of `n_train` rows (of the `--max-steps` budget when that is shorter), the best checkpoint by Pearson kept
    and loaded at the end; `{}` when it is off."""
    if not cfg.evals_per_epoch:
        return {}
    from .. import dist
    from .tricks.best import best_checkpoint_args, steps_per_epoch

    require(n_train, "--evals-per-epoch needs the fold's number of training rows")
    steps = steps_per_epoch(n_train, cfg.bs, cfg.grad_accum, dist.world_size())
    if cfg.max_steps > 0:
        steps = min(steps, cfg.max_steps)
    return best_checkpoint_args(cfg.evals_per_epoch, steps)


def fold_trainer_class():
    """`Trainer` whose evaluation and prediction keep the dataset's order. transformers 5 applies
    `train_sampling_strategy="group_by_length"` to eval batches too, which would scramble OOF and test
    predictions."""
    from transformers import Trainer

    class FoldTrainer(Trainer):
        def _get_eval_sampler(self, eval_dataset):
            from torch.utils.data import SequentialSampler

            if eval_dataset is None:
                return None
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None  # DDP: shards in order

    return FoldTrainer


def make_trainer(model, tok, args, trn=None, val=None, trainer_cls=None, data_collator=None, callbacks=None):
    """A `FoldTrainer` (or `trainer_cls`, e.g. `head_trainer_class(...)`, a subclass of it) regressing one score
    per pair, padding each batch dynamically (or with `data_collator`), reporting Pearson; `callbacks` added."""
    from transformers import DataCollatorWithPadding

    cls = trainer_cls or fold_trainer_class()
    return cls(
        model=model,
        args=args,
        train_dataset=trn,
        eval_dataset=val,
        processing_class=tok,
        data_collator=data_collator or DataCollatorWithPadding(tok),
        compute_metrics=compute_metrics,
        callbacks=callbacks,
    )


def predict_ds(trainer, ds):
    "Raw predictions of `trainer`'s model on `ds` as a flat float array."
    cols = [c for c in ds.column_names if c in MODEL_INPUTS]
    return np.asarray(trainer.predict(ds.select_columns(cols)).predictions, dtype=float).reshape(-1)


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

    class HeadTrainer(fold_trainer_class()):
        "HF `Trainer` with a separate head learning rate and layer-wise learning-rate decay."

        def create_optimizer(self, model=None):
            "AdamW (the args' optimizer) over `param_groups`."
            if self.optimizer is None:
                m = self.model if model is None else model
                decay = set(self.get_decay_parameter_names(m))
                no_decay = [n for n, _ in m.named_parameters() if n not in decay]
                groups = param_groups(
                    m,
                    self.args.learning_rate,
                    head_lr,
                    lr_decay,
                    self.args.weight_decay,
                    no_decay,
                )
                cls, kw = self.get_optimizer_cls_and_kwargs(self.args, m)
                self.optimizer = cls(groups, **kw)
            return self.optimizer

    return HeadTrainer


def adversarial_class(base, adv, adv_start=0.0, adv_lr=1.0, adv_eps=0.01):
    """`base` (a `Trainer` class) with `AdversarialMixin`'s FGM or AWP `adv` from epoch `adv_start`; `base` for
    'none'."""
    if adv in (None, "none"):
        return base
    from .tricks.adversarial import AdversarialMixin

    class AdversarialTrainer(AdversarialMixin, base):
        "The head trainer with an adversarial second forward/backward per step."

        def __init__(self, *args, **kwargs):
            super().__init__(*args, adv=adv, adv_start=adv_start, adv_lr=adv_lr, adv_eps=adv_eps, **kwargs)

    return AdversarialTrainer
