"""The whole ULMFiT run behind `kagglenlp imdb pretrain` and `kagglenlp imdb train`, writing `outputs/<name>/`.

`train`: read + tokenize (cached) -> vocab -> LM fine-tune (fwd[, bwd]) -> encoder -> classifier stages -> export,
`metrics.json` after every stage, plots, a row in `outputs/results.csv`. Rerunning the same command resumes;
changed settings or data under an existing name are refused instead of overwriting.
"""
import json
import pickle
import time

from ..errors import require
from ..paths import exp_dir
from ..results import append_result
from .config import clas_stages, lm_stages
from .data import clas_dls, lm_dls, make_lm_vocab, read_corpus, read_texts, tokenize_cached
from .fit import read_metrics, write_metrics

__all__ = ["pretrain", "train", "prepare_exp", "resolve_arch", "summarize"]


def _setup(c):
    "Seed everything from `c.seed`; set torch's CPU threads when `c.threads`."
    import torch
    from fastai.torch_core import set_seed
    if c.threads: torch.set_num_threads(c.threads)
    set_seed(c.seed, reproducible=True)


def pretrain(c, log=print):
    "Step 1 on corpus files `c.corpus`: train an AWD-LSTM LM (and backward one) and save it as a pretrained folder."
    from .fit import fp16_if_gpu, stage_metrics
    from .lm import direction, lm_learner, save_pretrained
    require(c.corpus, "--corpus FILE... is required")
    out = exp_dir(c.name)
    dirs = [False, True] if c.backwards else [False]
    done = [f"lstm_{direction(b)}.pth" for b in dirs if (out/f"lstm_{direction(b)}.pth").exists()]
    require(not done, f"{out} already holds {', '.join(done)}; choose another --name (nothing was overwritten)")
    t0 = time.time(); _setup(c)
    df = tokenize_cached(read_corpus(c.corpus), c.n_workers or None)
    vocab = make_lm_vocab(df, c.min_freq, c.max_vocab)
    res = dict(tokens=int(df["toks_length"].sum()), vocab=len(vocab), arch=c.arch(), epochs=c.epochs)
    log(f"corpus: {len(df)} lines, {res['tokens']} tokens, vocab {len(vocab)}")
    for bwd in dirs:
        dls = lm_dls(df, vocab, c.bs, c.seq_len, c.lm_valid_pct, backwards=bwd, seed=c.seed)
        learn = fp16_if_gpu(lm_learner(dls, c.arch(), c.drop_mult, out))
        learn.fit_one_cycle(c.epochs, c.lr)
        save_pretrained(learn.to_fp32(), out, c.arch(), bwd)
        res[direction(bwd)] = stage_metrics(learn)
        log(f"pretrained {direction(bwd)} LM: {res[direction(bwd)]}")
    res["minutes"] = round((time.time() - t0)/60, 2)
    (out/"metrics.json").write_text(json.dumps(res, indent=1))
    return out


def resolve_arch(c):
    "AWD-LSTM size: the pretrained folder's `config.json` when it has one, else the options in `c`."
    from .lm import find_pretrained
    if not c.pretrained: return c.arch()
    found = [find_pretrained(c.pretrained, b) for b in ([False, True] if c.backwards else [False])]  # fail early
    return {**c.arch(), **found[0][2]}


def prepare_exp(c, vocab, data_desc):
    "Create `outputs/<name>/` or check a previous run there used the same settings and vocab (so resuming is safe)."
    exp = exp_dir(c.name)
    cfg_f, voc_f = exp/"config.json", exp/"vocab.pkl"
    if cfg_f.exists():
        old = json.loads(cfg_f.read_text())
        diff = sorted(k for k in set(old) | set(c.key()) if old.get(k) != c.key().get(k))
        require(not diff, f"{exp} was made with different settings ({', '.join(diff)}); use another --name "
                          "(nothing was overwritten)")
    if voc_f.exists():
        from .classifier import check_vocab
        check_vocab(vocab, voc_f, f"the vocab of {data_desc} (the data changed?); use another --name")
    exp.mkdir(parents=True, exist_ok=True)
    cfg_f.write_text(json.dumps(c.key(), indent=1))
    with open(voc_f, "wb") as f: pickle.dump(list(vocab), f)
    return exp


def train(c, log=print):
    "Steps 2-3 for config `c`; returns the metrics dict also written to `outputs/<name>/metrics.json`."
    from .classifier import ensemble, train_classifier, valid_probs
    from .lm import direction, finetune_lm, save_encoder
    require(c.data, "--data DIR_OR_CSV is required")
    t0 = time.time(); _setup(c)
    arch = resolve_arch(c)  # fails early on a missing pretrained folder
    lm_st, cl_st = lm_stages(c), clas_stages(c)
    df = read_texts(c.data, c.valid_pct, c.seed)
    lab = df[df["label"] != ""]
    require(lab["label"].nunique() >= 2, f"{c.data}: the classifier needs at least 2 classes, found {sorted(lab['label'].unique())}")
    df = tokenize_cached(df, c.n_workers or None)
    log(f"tokenized {len(df)} texts in {time.time() - t0:.0f}s")
    vocab = make_lm_vocab(df, c.min_freq, c.max_vocab)  # every text, as the seed's LM DataBlock
    exp = prepare_exp(c, vocab, c.data)
    probs, targs = [], None
    for bwd in ([False, True] if c.backwards else [False]):
        d = direction(bwd)
        enc = exp/"models"/f"encoder_{d}.pth", exp/"models"/f"encoder_{d}_vocab.pkl"
        if not all(p.exists() for p in enc):
            lm = finetune_lm(lm_dls(df, vocab, c.bs, c.seq_len, c.lm_valid_pct, bwd, c.seed), c, arch, exp, lm_st, bwd, log)
            enc = save_encoder(lm, bwd)
            lm.to_fp32().export(exp.resolve()/f"lm_{d}.pkl")
        learn = train_classifier(clas_dls(df, vocab, c.bs, c.seq_len, bwd), c, arch, exp, cl_st, enc, bwd, log)
        p, targs = valid_probs(learn)
        probs.append(p)
    accs, ens = ensemble(probs, targs)
    m = read_metrics(exp)
    m["summary"] = summarize(m.get("stages", {}), accs, ens, n_texts=len(df), n_labelled=len(lab),
                             n_valid=int(targs.shape[0]), vocab=len(vocab), pretrained=bool(c.pretrained),
                             minutes=round((time.time() - t0)/60, 2), **arch)
    write_metrics(exp, m)
    append_result(dict(experiment=c.name, time=time.strftime("%Y-%m-%d %H:%M:%S"), pipeline="imdb",
                       model="awd_lstm_ulmfit", metric="accuracy",
                       score=round(m["summary"].get("accuracy_ensemble", accs[0]), 4), **m["summary"]))
    log(f"summary: {m['summary']}")
    return m


def summarize(stages, accs, ens, **extra):
    "Summary dict: final LM accuracy/perplexity per direction from `stages`, classifier `accs` (fwd[, bwd]), ensemble `ens`."
    res = {}
    for d, acc in zip(("fwd", "bwd"), accs):
        lm = [v for k, v in stages.items() if k.startswith(f"lm_{d}_") and "accuracy" in v]
        res.update({f"accuracy_{d}": acc, f"lm_accuracy_{d}": lm[-1]["accuracy"] if lm else None,
                    f"lm_perplexity_{d}": lm[-1]["perplexity"] if lm else None})
    if len(accs) > 1: res["accuracy_ensemble"] = ens
    return {**res, **extra}
