"""The whole ULMFiT run behind `kagglenlp imdb pretrain` and `kagglenlp imdb train`, writing `outputs/<name>/`.

`train` first checks everything that can fail on bad input, writing nothing but the shared token cache: the
schedules, the pretrained LM files against the AWD-LSTM size, the data (UTF-8, non-empty texts, 2+ classes), and,
once tokenized (cached by content), that every loader gets a full batch. It fingerprints what the run learns from
(texts, labels, split, pretrained files), then opens the experiment record (`kagglenlp.experiment`: it refuses a
rerun whose data or any setting but `config.RESUME_IGNORED` changed, `--overwrite` starts over, and its lock keeps
a second run under the same name out) and holds it while writing: vocab -> LM fine-tune (fwd[, bwd]) -> encoder ->
classifier stages -> export, `metrics.json` after every stage, plots, a row in `outputs/results.csv`. Rerunning the
same command resumes after the last finished stage; rerunning a finished one writes nothing (no second results row,
no re-export). `pretrain` works the same way for step 1.
"""

import pickle
import time
from dataclasses import asdict

from ..args import check_ranges
from ..errors import require
from ..experiment import fingerprint, open_experiment
from ..files import check_writable, write_pickle
from .config import RESUME_IGNORED, clas_stages, lm_stages
from .data import (
    check_batches,
    clas_dls,
    labelled,
    lm_dls,
    make_lm_vocab,
    read_corpus,
    read_texts,
    tok_cache_dir,
    tokenize_cached,
)
from .fit import export_learner, read_metrics, write_metrics

__all__ = ["pretrain", "train", "pretrained_inputs", "data_fingerprint", "keep_vocab", "summarize", "PIPELINE"]

PIPELINE = "imdb"  # the experiment record's pipeline for `train`; `pretrain` records "imdb-pretrain"


def _setup(c):
    "Seed everything from `c.seed`; set torch's CPU threads when `c.threads`."
    import torch
    from fastai.torch_core import set_seed

    if c.threads:
        torch.set_num_threads(c.threads)
    set_seed(c.seed, reproducible=True)


def _directions(c):
    "`[False]`, or `[False, True]` with `c.backwards`."
    return [False, True] if c.backwards else [False]


def keep_vocab(f, vocab, what):
    "Save `vocab` to `f`, or, resuming, refuse when `f` holds another one (the tokenizer changed since)."
    if f.exists():
        with open(f, "rb") as fh:
            saved = list(pickle.load(fh))
        require(
            saved == list(vocab),
            f"{f} holds another vocab than {what} gives now ({len(saved)} vs {len(vocab)} tokens: a changed "
            "tokenizer?); the saved models would not fit it; pass --overwrite to start over, or another --name",
        )
        return f
    return write_pickle(list(vocab), f)


def pretrain(c, log=print):
    """Step 1 on corpus files `c.corpus`: train an AWD-LSTM LM (and backward one) and save it as a pretrained
    folder."""
    from .fit import fp16_if_gpu, stage_metrics
    from .lm import direction, lm_learner, save_pretrained

    t0 = time.time()
    check_ranges(c)
    corpus = read_corpus(c.corpus)
    check_writable(tok_cache_dir())
    df = tokenize_cached(corpus, c.n_workers or None)
    check_batches(df, c.bs, c.lm_valid_pct, c.seed, ", ".join(c.corpus))
    vocab = make_lm_vocab(df, c.min_freq, c.max_vocab)
    data = fingerprint(corpus=corpus["text"])
    with open_experiment(
        c.name,
        "imdb-pretrain",
        asdict(c),
        data,
        ignore=RESUME_IGNORED,
        overwrite=c.overwrite,
    ) as exp:
        out = exp.dir
        todo = [b for b in _directions(c) if not (out / f"lstm_{direction(b)}.pth").exists()]
        if not todo:
            log(f"{out} already holds this pretrained LM (nothing to do; --overwrite retrains it)")
            return out
        keep_vocab(out / "itos.pkl", vocab, f"corpus {', '.join(c.corpus)}")
        _setup(c)
        res = read_metrics(out)
        res.update(tokens=int(df["toks_length"].sum()), vocab=len(vocab), arch=c.arch(), epochs=c.epochs)
        log(f"corpus: {len(df)} lines, {res['tokens']} tokens, vocab {len(vocab)}")
        for bwd in todo:
            dls = lm_dls(df, vocab, c.bs, c.seq_len, c.lm_valid_pct, backwards=bwd, seed=c.seed)
            learn = fp16_if_gpu(lm_learner(dls, c.arch(), c.drop_mult, out))
            learn.fit_one_cycle(c.epochs, c.lr)
            res[direction(bwd)] = stage_metrics(learn)
            write_metrics(out, res)
            save_pretrained(learn.to_fp32(), out, c.arch(), bwd)
            log(f"pretrained {direction(bwd)} LM: {res[direction(bwd)]}")
        res["minutes"] = round((time.time() - t0) / 60, 2)
        write_metrics(out, res)
    return out


def pretrained_inputs(c):
    """`({direction: (weights, vocab)}, arch)`: the general LM files of `c.pretrained` for each direction,
    checked to load and fit the AWD-LSTM size (the pretrained folder's `config.json` wins over the options);
    `{}` without."""
    from .lm import check_pretrained, direction, find_pretrained

    if not c.pretrained:
        return {}, c.arch()
    found = {direction(b): find_pretrained(c.pretrained, b) for b in _directions(c)}
    arch = {**c.arch(), **found["fwd"][2]}
    for wgts, vocab, _ in found.values():
        check_pretrained(wgts, vocab, arch)
    return {d: (wgts, vocab) for d, (wgts, vocab, _) in found.items()}, arch


def data_fingerprint(df, pretrained):
    "Fingerprint of what a run learns from: the texts, labels and split of `df`, and the pretrained LM files."
    parts = dict(texts=df[["text", "label", "is_valid", "split"]])
    for d, (wgts, vocab) in pretrained.items():
        parts[f"pretrained_{d}"], parts[f"pretrained_{d}_vocab"] = wgts, vocab
    return fingerprint(**parts)


def train(c, log=print):
    "Steps 2-3 for config `c`; returns the metrics dict also written to `outputs/<name>/metrics.json`."
    t0 = time.time()
    check_ranges(c)
    schedules = lm_stages(c), clas_stages(c)
    pretrained, arch = pretrained_inputs(c)
    df = read_texts(c.data, c.valid_pct, c.seed, log)
    n_labelled = len(labelled(df, c.data))
    check_writable(tok_cache_dir())
    df = tokenize_cached(df, c.n_workers or None)  # the cache is shared and keyed by content: not an output
    log(f"tokenized {len(df)} texts in {time.time() - t0:.0f}s")
    check_batches(df, c.bs, c.lm_valid_pct, c.seed, c.data)
    vocab = make_lm_vocab(df, c.min_freq, c.max_vocab)  # every text, as the seed's LM DataBlock
    data = data_fingerprint(df, pretrained)
    with open_experiment(c.name, PIPELINE, asdict(c), data, ignore=RESUME_IGNORED, overwrite=c.overwrite) as exp:
        if exp.resumed:
            log(f"resuming experiment {c.name!r} in {exp.dir} (same data and settings)")
        keep_vocab(exp.path("vocab.pkl"), vocab, c.data)
        _setup(c)
        return _train(c, exp, df, vocab, n_labelled, arch, schedules, t0, log)


def _train(c, exp, df, vocab, n_labelled, arch, schedules, t0, log):
    "The writing part of `train` on tokenized `df`, inside open experiment `exp`."
    from .classifier import ensemble, train_classifier, valid_probs
    from .lm import direction, finetune_lm, save_encoder

    lm_st, cl_st = schedules
    done = read_metrics(exp.dir)
    if "summary" in done and all(exp.path(f"classifier_{direction(b)}.pkl").exists() for b in _directions(c)):
        log(f"experiment {c.name!r} is finished in {exp.dir} (nothing to do; --overwrite retrains it)")
        _record(exp, done["summary"])  # the results row only if an earlier run stopped before writing it
        return done
    probs, targs = [], None
    for bwd in _directions(c):
        d = direction(bwd)
        enc = exp.path("models", f"encoder_{d}.pth"), exp.path("models", f"encoder_{d}_vocab.pkl")
        lm_file = exp.path(f"lm_{d}.pkl")
        if not all(p.exists() for p in (*enc, lm_file)):
            dls = lm_dls(df, vocab, c.bs, c.seq_len, c.lm_valid_pct, bwd, c.seed)
            lm = finetune_lm(dls, c, arch, exp.dir, lm_st, bwd, log)
            enc = save_encoder(lm, bwd)
            export_learner(lm.to_fp32(), lm_file)
        learn = train_classifier(clas_dls(df, vocab, c.bs, c.seq_len, bwd), c, arch, exp.dir, cl_st, enc, bwd, log)
        p, targs = valid_probs(learn)
        probs.append(p)
    accs, ens = ensemble(probs, targs)
    m = read_metrics(exp.dir)
    m["summary"] = summarize(
        m.get("stages", {}),
        accs,
        ens,
        n_texts=len(df),
        n_labelled=n_labelled,
        n_valid=int(targs.shape[0]),
        vocab=len(vocab),
        pretrained=bool(c.pretrained),
        minutes=round((time.time() - t0) / 60, 2),
        **arch,
    )
    write_metrics(exp.dir, m)
    _record(exp, m["summary"])
    log(f"summary: {m['summary']}")
    return m


def _record(exp, summary):
    "The experiment's one row in `outputs/results.csv`: the ensemble's accuracy (else the forward model's)."
    score = round(summary.get("accuracy_ensemble", summary["accuracy_fwd"]), 4)
    exp.result("accuracy", score, model="awd_lstm_ulmfit", **summary)


def summarize(stages, accs, ens, **extra):
    """Summary: final LM accuracy/perplexity per direction from `stages`, classifier `accs` (fwd[, bwd]), ensemble
    `ens`."""
    res = {}
    for d, acc in zip(("fwd", "bwd"), accs):
        lm = [v for k, v in stages.items() if k.startswith(f"lm_{d}_") and "accuracy" in v]
        res.update(
            {
                f"accuracy_{d}": acc,
                f"lm_accuracy_{d}": lm[-1]["accuracy"] if lm else None,
                f"lm_perplexity_{d}": lm[-1]["perplexity"] if lm else None,
            }
        )
    if len(accs) > 1:
        res["accuracy_ensemble"] = ens
    return {**res, **extra}
