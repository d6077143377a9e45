"""Language models: step 1 (pretrain on a corpus, or load a pretrained folder) and step 2 (fine-tune on IMDb).

A pretrained folder holds AWD-LSTM weights `*fwd*.pth` / `*bwd*.pth` (or one untagged `*.pth` = forward), the
vocab `*.pkl` (list of tokens) and optionally `config.json` with the size; fastai's WikiText-103 download
(`lstm_fwd.pth`, `itos_wt103.pkl`, fastai's default size) and `kagglenlp imdb pretrain`'s output both fit.
`check_pretrained` reads the weights and vocab and compares them with the AWD-LSTM size before a run writes
anything, so a wrong folder fails at once, not after a fine-tuning stage.
"""

import json
import pickle
import re
from pathlib import Path

from ..errors import UserError, require
from ..files import atomic_path, write_json, write_pickle
from .fit import last_done, run_stages

__all__ = [
    "direction",
    "lm_config",
    "find_pretrained",
    "check_pretrained",
    "lm_learner",
    "load_pretrained",
    "save_pretrained",
    "save_encoder",
    "finetune_lm",
    "generate",
]

SIZE_HINT = "set --emb-sz/--n-hid/--n-layers to the pretrained model's or add its config.json"


def direction(backwards):
    "File tag for the text direction: 'bwd' when `backwards`, else 'fwd'."
    return "bwd" if backwards else "fwd"


def lm_config(arch, clas=False):
    "fastai AWD-LSTM LM (or classifier, `clas`) config dict with the sizes in `arch` overriding the default."
    from fastai.text.all import awd_lstm_clas_config, awd_lstm_lm_config

    return {**(awd_lstm_clas_config if clas else awd_lstm_lm_config), **arch}


def find_pretrained(dirs, backwards=False):
    "(weights, vocab, arch) of the `backwards`/forward LM in folders `dirs`; arch is {} without `config.json`."
    tag = direction(backwards)
    for d in map(Path, dirs):
        require(d.is_dir(), f"pretrained folder {d} does not exist")
    for d in map(Path, dirs):
        pths = sorted(d.glob("*.pth"))
        untagged = [] if backwards or len(pths) != 1 or "bwd" in pths[0].stem else pths
        hit = [p for p in pths if tag in p.stem] or untagged
        if not hit:
            continue
        pkls = sorted(d.glob("*.pkl"))
        require(len(pkls) == 1, f"{d}: expected one vocab *.pkl next to {hit[0].name}, found {len(pkls)}")
        cfg = d / "config.json"
        arch = json.loads(cfg.read_text()).get("arch", {}) if cfg.exists() else {}
        return hit[0], pkls[0], arch
    raise UserError(
        f"no {'backward' if backwards else 'forward'} LM weights (*{tag}*.pth) in {', '.join(map(str, dirs))}"
    )


def _read_weights(wgts):
    "The state dict in `wgts` (unwrapped from a checkpoint's 'model'), or a `UserError` saying what it is."
    import torch

    try:
        sd = torch.load(wgts, map_location="cpu", weights_only=True)
    except Exception:  # e.g. an old file with numpy inside: fastai's `load_pretrained` reads it unrestricted too
        try:
            sd = torch.load(wgts, map_location="cpu", weights_only=False)
        except Exception as e:  # torch and pickle raise many types for a file that is not a state dict
            why = str(e).split(". ")[0][:160]
            raise UserError(
                f"{wgts} is not a PyTorch file of AWD-LSTM weights ({type(e).__name__}: {why})",
            ) from None
    if isinstance(sd, dict) and isinstance(sd.get("model"), dict):
        sd = sd["model"]
    ok = isinstance(sd, dict) and any(k.endswith("encoder.weight") for k in sd)
    require(ok, f"{wgts} holds no AWD-LSTM language-model weights (no encoder.weight)")
    return sd


def _read_vocab(vocab):
    "The token list pickled in `vocab`, or a `UserError`."
    try:
        with open(vocab, "rb") as f:
            toks = pickle.load(f)
    except Exception as e:  # a truncated or foreign file
        raise UserError(f"cannot read {vocab} as a pickled vocab ({type(e).__name__}: {e})") from None
    require(
        isinstance(toks, (list, tuple)) and all(isinstance(t, str) for t in toks),
        f"{vocab} is not a vocab (a pickled list of tokens)",
    )
    return list(toks)


def _size_of(sd):
    "AWD-LSTM size `emb_sz, n_hid, n_layers` read from LM state dict `sd`."
    emb = next(v for k, v in sd.items() if k.endswith("encoder.weight")).shape[1]
    layers = sorted({int(m.group(1)) for k in sd if (m := re.search(r"rnns\.(\d+)\.", k))})
    hid = next((v.shape[1] for k, v in sd.items() if k.endswith("rnns.0.weight_hh_l0_raw")), None)
    hid = None if hid is None or len(layers) < 2 else int(hid)  # one layer: its size is emb_sz, n_hid unused
    return dict(emb_sz=int(emb), n_hid=hid, n_layers=len(layers))


def _shape(key, t):
    "Shape of tensor `t` under `key`, without the vocab dimension of embeddings and decoders."
    return tuple(t.shape[1:] if ("encoder" in key or "decoder" in key) else t.shape)


def check_pretrained(wgts, vocab, arch):
    "Raise `UserError` unless weights `wgts` and vocab `vocab` load and fit an AWD-LSTM LM of size `arch`."
    from fastai.text.all import AWD_LSTM, get_language_model
    from fastai.text.learner import clean_raw_keys

    sd, toks = clean_raw_keys(dict(_read_weights(wgts))), _read_vocab(vocab)
    n_emb = next(v for k, v in sd.items() if k.endswith("encoder.weight")).shape[0]
    require(n_emb == len(toks), f"{wgts} embeds {n_emb} tokens but its vocab {vocab} has {len(toks)}: not a pair")
    want = clean_raw_keys(dict(get_language_model(AWD_LSTM, 2, config=lm_config(arch)).state_dict()))
    got = _size_of(sd)
    pairs = zip(want.items(), sd.values())
    fits = len(want) == len(sd) and all(_shape(k, a) == _shape(k, b) for (k, a), b in pairs)
    require(fits, f"{wgts} is an AWD-LSTM of size {got}, not {arch}; {SIZE_HINT}")
    return toks


def lm_learner(dls, arch, drop_mult, path, model_dir="models"):
    "AWD-LSTM language-model learner on `dls` with accuracy and perplexity, writing under `path`."
    from fastai.text.all import AWD_LSTM, Perplexity, accuracy, language_model_learner

    return language_model_learner(
        dls,
        AWD_LSTM,
        config=lm_config(arch),
        drop_mult=drop_mult,
        pretrained=False,
        metrics=[accuracy, Perplexity()],
        path=path,
        model_dir=model_dir,
    )


def load_pretrained(learn, wgts, vocab):
    """Load general-domain `wgts` with `vocab` into `learn`, matching embeddings to its vocab; clear error on
    mismatch."""
    try:
        learn.load_pretrained(wgts, vocab)
    except RuntimeError as e:
        raise UserError(
            f"{wgts} does not fit this AWD-LSTM size ({SIZE_HINT}): {str(e).splitlines()[0]}",
        ) from None
    return learn


def save_pretrained(learn, out, arch, backwards=False):
    """Save `learn`'s LM as a pretrained folder `out`: `lstm_<dir>.pth`, `itos.pkl`, `config.json` (each
    atomically)."""
    import torch

    out = Path(out)
    write_pickle(list(learn.dls.vocab), out / "itos.pkl")
    write_json(dict(arch=arch), out / "config.json")
    with atomic_path(out / f"lstm_{direction(backwards)}.pth") as tmp:  # last: its presence marks the LM done
        torch.save(learn.model.state_dict(), tmp)
    return out


def save_encoder(learn, backwards=False):
    "Save `learn`'s encoder as `models/encoder_<dir>.pth` with its vocab beside it; returns the two paths."
    import torch
    from fastai.text.all import get_model

    name = f"encoder_{direction(backwards)}"
    mdir = Path(learn.path) / learn.model_dir
    write_pickle(list(learn.dls.vocab), mdir / f"{name}_vocab.pkl")
    encoder = get_model(learn.model)[0]
    with atomic_path(mdir / f"{name}.pth") as tmp:  # as fastai's `save_encoder`, but never half a file
        torch.save(getattr(encoder, "module", encoder).state_dict(), tmp)
    return mdir / f"{name}.pth", mdir / f"{name}_vocab.pkl"


def finetune_lm(dls, c, arch, exp, stages, backwards=False, log=print):
    "Step 2: LM of size `arch` on IMDb `dls` (from `c.pretrained` when given), fit through `stages`."
    from .fit import fp16_if_gpu

    learn = lm_learner(dls, arch, c.lm_drop_mult, exp)
    if c.pretrained and last_done(learn, f"lm_{direction(backwards)}", stages) < 0:
        wgts, vocab, _ = find_pretrained(c.pretrained, backwards)
        load_pretrained(learn, wgts, vocab)
        log(f"loaded general LM {wgts}")
    learn = fp16_if_gpu(learn)
    return run_stages(learn, stages, f"lm_{direction(backwards)}", exp, log)


def generate(learn, prompt, n_words=40, temperature=0.75, n=1):
    "`n` continuations of `prompt` of `n_words` words sampled from LM `learn` at `temperature`."
    return [learn.predict(prompt, n_words, temperature=temperature) for _ in range(n)]
