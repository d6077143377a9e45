"""One fold of a cross-encoder: tokenize once, then HF `Trainer` + `TrainingArguments` per fold."""
import numpy as np

from .metrics import compute_metrics

__all__ = ["precision_kwargs", "tokenize", "training_args", "make_trainer", "train_fold", "predict_ds"]


def precision_kwargs():
    "Mixed precision from the device: bf16 (or fp16) on a GPU, fp32 on the CPU (no pinned memory there)."
    import torch
    if not torch.cuda.is_available(): return {"dataloader_pin_memory": False}
    return {"bf16": True} if torch.cuda.is_bf16_supported() else {"fp16": True}


def tokenize(tok, inputs, labels=None, ids=None, max_len=256):
    "A `datasets.Dataset` of `inputs` tokenized by `tok` once (no padding: the collator pads per batch)."
    from datasets import Dataset
    cols = {"input": list(inputs)}
    if labels is not None: cols["labels"] = np.asarray(labels, dtype=np.float32)
    if ids is not None: cols["id"] = list(ids)
    ds = Dataset.from_dict(cols)
    return ds.map(lambda b: tok(b["input"], truncation=True, max_length=max_len), batched=True,
                  remove_columns=["input"], desc="tokenizing")


def training_args(out_dir, lr=8e-5, bs=128, epochs=4, wd=0.01, warmup=0.1, seed=42, max_steps=-1, **kw):
    "`TrainingArguments` with the seed's recipe: cosine schedule, `warmup` ratio, eval every epoch, no checkpoints."
    from transformers import TrainingArguments
    per_epoch = max_steps < 0  # smoke runs (`max_steps`) log every step and skip the per-epoch eval
    return TrainingArguments(
        str(out_dir), learning_rate=lr, per_device_train_batch_size=bs, per_device_eval_batch_size=bs*2,
        num_train_epochs=epochs, weight_decay=wd, lr_scheduler_type="cosine",
        warmup_steps=warmup,  # transformers 5: a float below 1 is a ratio of all steps
        eval_strategy="epoch" if per_epoch else "no", logging_strategy="epoch" if per_epoch else "steps",
        logging_steps=1, save_strategy="no", report_to="none", seed=seed, max_steps=max_steps,
        disable_tqdm=False, **precision_kwargs(), **kw)


def make_trainer(model, tok, args, trn=None, val=None):
    "A `Trainer` regressing one score per pair, padding each batch dynamically, reporting Pearson."
    from transformers import DataCollatorWithPadding, Trainer
    return Trainer(model=model, args=args, train_dataset=trn, eval_dataset=val, processing_class=tok,
                   data_collator=DataCollatorWithPadding(tok), compute_metrics=compute_metrics)


def predict_ds(trainer, ds):
    "Raw predictions of `trainer`'s model on `ds` as a flat float array."
    cols = [c for c in ds.column_names if c in ("input_ids", "attention_mask", "token_type_ids")]
    return np.asarray(trainer.predict(ds.select_columns(cols)).predictions, dtype=float).reshape(-1)


def train_fold(model, tok, trn, val, tst, args):
    "Train `model` on `trn`; return `(trainer, oof_preds, test_preds, log_history)` from `val` and `tst`."
    trainer = make_trainer(model, tok, args, trn, val)
    trainer.train()
    return trainer, predict_ds(trainer, val), predict_ds(trainer, tst), trainer.state.log_history
