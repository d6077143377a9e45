"""Several evaluations per epoch, the best checkpoint by Pearson kept: `TrainingArguments` fields, the best step.

`best_checkpoint_args(evals_per_epoch, steps)` gives the fields; HF `Trainer` then evaluates every `eval_steps`
optimizer steps (and at the last step), saves a checkpoint only when Pearson improves (`save_strategy="best"`),
keeps one (`save_total_limit`) and loads it back at the end (`load_best_model_at_end`), so the fold's OOF and test
predictions come from the best step. `best_eval(trainer.state.log_history)` says which step that was (the Trainer
keeps it as `state.best_global_step`, `state.best_metric`).
"""

import math

from ..metric import compute_metrics

__all__ = [
    "METRIC",
    "compute_metrics",
    "steps_per_epoch",
    "eval_steps_for",
    "best_checkpoint_args",
    "best_eval",
]

METRIC = "pearson"  # the key `compute_metrics` returns; the Trainer logs it as `eval_pearson`


def steps_per_epoch(n_rows, bs, grad_accum=1, world=1):
    """Optimizer steps in one epoch of `n_rows` at batch `bs` per device on `world` devices with `grad_accum` (as
    HF)."""
    batches = math.ceil(n_rows / (bs * world))
    return math.ceil(batches / grad_accum)


def eval_steps_for(evals_per_epoch, n_steps):
    """Steps between evaluations for at least `evals_per_epoch` evaluations in an epoch of `n_steps` optimizer
    steps."""
    return max(1, n_steps // max(1, evals_per_epoch))


def best_checkpoint_args(evals_per_epoch, n_steps, save_total_limit=1):
    """`TrainingArguments` keywords: evaluate `evals_per_epoch` times per epoch of `n_steps` optimizer steps,
    save on each new best Pearson only, keep `save_total_limit` checkpoints (weights only), load the best at the
    end."""
    return dict(
        eval_strategy="steps",
        eval_steps=eval_steps_for(evals_per_epoch, n_steps),
        save_strategy="best",  # a checkpoint only when the metric improves (transformers 5: SaveStrategy.BEST)
        save_total_limit=save_total_limit,
        save_only_model=True,  # no optimizer state in the checkpoints: a fold restarts, it never resumes mid-way
        load_best_model_at_end=True,
        metric_for_best_model=METRIC,
        greater_is_better=True,
    )


def best_eval(log_history, metric=f"eval_{METRIC}"):
    """`(step, score)` of the evaluation with the highest `metric` in a `Trainer.state.log_history` (NaN scores
    never win; ties go to the earliest step, as the Trainer's strict comparison); `(None, None)` when none was
    logged."""
    best = (None, None)
    for row in log_history:
        v = row.get(metric)
        if v is not None and not math.isnan(v) and (best[1] is None or v > best[1]):
            best = (int(row["step"]), float(v))
    return best
