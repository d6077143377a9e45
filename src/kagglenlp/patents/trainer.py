"""HF `Trainer` pieces for one fold: tokenize once, `TrainingArguments` from the config, the order-keeping trainer."""

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
    "fit",
]


def precision_kwargs():
    "Mixed precision from the device: bf16 (or fp16) on a GPU, fp32 on the CPU (no pinned memory there)."
    import torch

    if not torch.cuda.is_available():
        return {"use_cpu": True, "dataloader_pin_memory": False}  # use_cpu: torchrun on CPUs gets DDP (gloo)
    return {"bf16": True} if bf16_ok() else {"fp16": True}


def tokenize(tok, inputs, labels=None, ids=None, max_len=MAX_LEN):
    "A `datasets.Dataset` of `inputs` tokenized by `tok` once, with a `length` column (the collator pads per batch)."
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
    `train_sampling_strategy="group_by_length"` to eval batches too, which would scramble OOF and test predictions."""
    from transformers import Trainer

    class FoldTrainer(Trainer):
        def _get_eval_sampler(self, eval_dataset):
            from torch.utils.data import SequentialSampler

            if eval_dataset is None:
                return None
            return SequentialSampler(eval_dataset) if self.args.world_size <= 1 else None  # DDP: shards in order

    return FoldTrainer


def make_trainer(model, tok, args, trn=None, val=None, trainer_cls=None, data_collator=None, callbacks=None):
    """A `FoldTrainer` (or `trainer_cls`, e.g. `optim.head_trainer_class(...)`, a subclass of it) regressing one
    score per pair, padding each batch dynamically (or with `data_collator`), reporting Pearson; `callbacks` added."""
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


def fit(model, tok, trn, val, tst, args, **trainer_kw):
    "Train `model` on `trn`; return `(trainer, oof_preds, test_preds, log_history)` from `val` and `tst`."
    trainer = make_trainer(model, tok, args, trn, val, **trainer_kw)
    trainer.train()
    return trainer, predict_ds(trainer, val), predict_ds(trainer, tst), trainer.state.log_history
