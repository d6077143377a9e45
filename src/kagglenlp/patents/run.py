"""A patents experiment end to end: validate, write folds once, train the missing folds, OOF CV, submission.

Outputs (keyed by experiment name): `outputs/<EXP>/{config.json, folds.csv, fold<k>/, oof.csv, cv.json,
test_preds.csv, oof.png}`, `submissions/<EXP>.csv` and a row in `outputs/results.csv`. A rerun with the same
settings resumes at the first unfinished fold; other settings need `--overwrite` or another `--name`.
"""
import json
import shutil
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from .. import paths
from ..errors import UserError, require
from ..results import append_result
from ..submission import write_submission
from .config import RESUME_KEYS, exp_name
from .data import load_competition
from .folds import add_folds, train_mask
from .metrics import clip01, pearson
from .predict import FORMAT_FILE, make_submission
from .text import context_titles, load_titles, make_inputs, model_sep

__all__ = ["run_experiment", "check_resume", "fold_done", "finalize"]


def _jdump(obj, path):
    tmp = Path(str(path) + ".tmp"); tmp.write_text(json.dumps(obj, indent=2, default=str)); tmp.replace(path)


def check_resume(out, sub_path, cfg):
    "Raise unless `out` is absent, or holds the same settings as `cfg` (a resume), or `cfg.overwrite`."
    if cfg.overwrite: return
    if (out/"config.json").exists():
        old = json.loads((out/"config.json").read_text())
        diff = [k for k in RESUME_KEYS if old.get(k) != cfg.to_dict()[k]]
        require(not diff, f"{out} holds experiment {out.name!r} with other settings ({', '.join(f'{k}: {old.get(k)!r} -> {cfg.to_dict()[k]!r}' for k in diff)}); "
                          f"pass --overwrite to replace it or --name for a new experiment")
    elif out.exists() and any(out.iterdir()):
        raise UserError(f"{out} exists but has no config.json; pass --overwrite to replace it or choose another --name")
    elif sub_path.exists():
        raise UserError(f"{sub_path} exists from an earlier run; pass --overwrite to replace it or choose another --name")


def fold_done(out, k):
    "True when fold `k` of experiment folder `out` finished (its `done.json` is written last)."
    return (out/f"fold{k}"/"done.json").exists()


def _write_folds(out, trn):
    "Write `folds.csv` once; on a resume check the stored folds still match."
    p = out/"folds.csv"
    cur = trn[["id", "anchor", "fold"]]
    if p.exists():
        old = pd.read_csv(p, dtype={"id": str, "anchor": str})
        require(old["id"].tolist() == cur["id"].tolist() and old["fold"].tolist() == cur["fold"].tolist(),
                f"{p} no longer matches the data; pass --overwrite to start over")
    else: cur.to_csv(p, index=False)


def _train_one(cfg, out, k, trn, ds, tst_ds, tok, fmt):
    "Train fold `k` and save its model, predictions and `done.json` into `out/fold<k>`."
    from transformers import set_seed
    from .model import load_model
    from .train import train_fold, training_args
    fd = out/f"fold{k}"
    if fd.exists(): shutil.rmtree(fd)  # an unfinished fold from an interrupted run
    fd.mkdir(parents=True)
    t0 = time.time()
    m_trn, m_val = train_mask(trn, k, cfg.split, cfg.date_col, cfg.gap), (trn["fold"] == k).values
    set_seed(cfg.seed)
    model = load_model(cfg.model)
    args = training_args(fd/"trainer", cfg.lr, cfg.bs, cfg.epochs, cfg.wd, cfg.warmup, cfg.seed, cfg.max_steps)
    trainer, oof, tpred, log = train_fold(model, tok, ds.select(np.flatnonzero(m_trn)), ds.select(np.flatnonzero(m_val)), tst_ds, args)
    trainer.save_model(str(fd))
    shutil.rmtree(fd/"trainer", ignore_errors=True)
    _jdump(fmt, fd/FORMAT_FILE)
    val = trn[m_val]
    pd.DataFrame({"id": val["id"].values, "fold": k, "pred": oof, "score": val["score"].values}).to_csv(fd/"oof.csv", index=False)
    pd.DataFrame({"id": tst_ds["id"], "pred": tpred}).to_csv(fd/"test_preds.csv", index=False)
    _jdump(log, fd/"log_history.json")
    r = pearson(clip01(oof), val["score"])
    _jdump({"fold": k, "pearson": r, "seconds": round(time.time() - t0, 1), "n_train": int(m_trn.sum()), "n_valid": int(m_val.sum())}, fd/"done.json")
    print(f"fold {k}: pearson {r:.4f} ({time.time() - t0:.0f}s)")


def finalize(out, folds, sample, sub_path):
    "Combine fold outputs of `out` into oof.csv, cv.json, test_preds.csv, oof.png and the submission file."
    oof = pd.concat([pd.read_csv(out/f"fold{k}"/"oof.csv", dtype={"id": str}) for k in folds], ignore_index=True)
    oof["pred"] = clip01(oof["pred"])
    oof[["id", "fold", "pred", "score"]].to_csv(out/"oof.csv", index=False)
    per = {str(k): pearson(g["pred"], g["score"]) for k, g in oof.groupby("fold")}
    cv = {"pearson": pearson(oof["pred"], oof["score"]), "folds": per, "n_oof": len(oof),
          "seconds": round(sum(json.loads((out/f"fold{k}"/"done.json").read_text())["seconds"] for k in folds), 1)}
    _jdump(cv, out/"cv.json")
    tps = {k: pd.read_csv(out/f"fold{k}"/"test_preds.csv", dtype={"id": str}) for k in folds}
    tp = tps[folds[0]][["id"]].assign(**{f"fold{k}": t["pred"].values for k, t in tps.items()})
    tp.to_csv(out/"test_preds.csv", index=False)
    write_submission(make_submission(tp, sample), sub_path, sample, overwrite=True)
    plot_oof(oof, out/"oof.png", cv["pearson"])
    return cv


def plot_oof(oof, path=None, r=None):
    "Scatter of OOF prediction against score, one colour per fold; saved to `path` (and closed) when given."
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(5, 5))
    for k, g in oof.groupby("fold"):
        ax.scatter(g["score"] + np.random.default_rng(k).uniform(-.04, .04, len(g)), g["pred"], s=6, alpha=.4, label=f"fold {k}")
    ax.set(xlabel="score (jittered)", ylabel="OOF prediction", title=f"OOF Pearson {r:.4f}" if r is not None else "OOF")
    ax.legend(fontsize=7); fig.tight_layout()
    if path is not None: fig.savefig(path, dpi=100); plt.close(fig)
    return fig


def run_experiment(cfg):
    "Run experiment `cfg` (a `TrainConfig`); returns its CV dict, or None while folds are still missing."
    cfg = replace(cfg, data=str(Path(cfg.data).resolve()), titles=cfg.titles and str(Path(cfg.titles).resolve()))
    name = exp_name(cfg)
    out, sub_path = paths.exp_dir(name), paths.submissions_dir()/f"{name}.csv"
    # Everything that can fail on bad input is checked before anything is written.
    trn, tst, sample = load_competition(cfg.data, cfg.max_rows, cfg.seed)
    titles = load_titles(cfg.titles) if cfg.titles else None
    if cfg.text != "seed":
        for df, f in ((trn, "train.csv"), (tst, "test.csv")): context_titles(df["context"], titles, f"--titles file (for {f})" if titles else "")
    trn = add_folds(trn, cfg.split, cfg.folds, cfg.seed, cfg.date_col, cfg.gap)
    folds = sorted(int(k) for k in trn["fold"].unique() if k >= 0)
    require(cfg.fold is None or cfg.fold in folds, f"--fold {cfg.fold} is not one of the folds {folds}")
    check_resume(out, sub_path, cfg)
    from .model import load_tokenizer
    from .train import tokenize
    tok = load_tokenizer(cfg.model)

    if cfg.overwrite:
        shutil.rmtree(out, ignore_errors=True); sub_path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    _jdump({**cfg.to_dict(), "name": name}, out/"config.json")
    _write_folds(out, trn)
    todo = [k for k in ([cfg.fold] if cfg.fold is not None else folds) if not fold_done(out, k)]
    print(f"experiment {name}: {len(trn)} train rows, {len(folds)} folds, to train: {todo or 'none (resuming: all done)'}")
    if todo:
        sep = model_sep(tok)
        fmt = {"text": cfg.text, "titles": titles, "sib_cap": cfg.sib_cap, "max_len": cfg.max_len}
        ds = tokenize(tok, make_inputs(trn, cfg.text, titles, sep, cfg.sib_cap), trn["score"], trn["id"], cfg.max_len)
        tst_ds = tokenize(tok, make_inputs(tst, cfg.text, titles, sep, cfg.sib_cap), ids=tst["id"], max_len=cfg.max_len)
        for k in todo: _train_one(cfg, out, k, trn, ds, tst_ds, tok, fmt)
    if not all(fold_done(out, k) for k in folds):
        print(f"folds still missing: {[k for k in folds if not fold_done(out, k)]}; the submission is written when all are done")
        return None
    first = not (out/"cv.json").exists()
    cv = finalize(out, folds, sample, sub_path)
    if todo or first:
        from .model import model_label
        append_result({"experiment": name, "time": time.strftime("%Y-%m-%d %H:%M:%S"), "pipeline": "patents",
                       "model": model_label(cfg.model), "text": cfg.text, "split": cfg.split, "folds": len(folds),
                       "rows": len(trn), "epochs": cfg.epochs,
                       "cv_folds": " ".join(f"{v:.4f}" for v in cv["folds"].values()), "cv": round(cv["pearson"], 4),
                       "seconds": cv["seconds"]})
    print(f"CV Pearson {cv['pearson']:.4f} per fold {({k: round(v, 4) for k, v in cv['folds'].items()})}\nsubmission: {sub_path}")
    return cv
