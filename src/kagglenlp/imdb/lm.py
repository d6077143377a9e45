"""Language models: step 1 (pretrain on a corpus, or load a pretrained folder) and step 2 (fine-tune on IMDb).

A pretrained folder holds AWD-LSTM weights `*fwd*.pth` / `*bwd*.pth` (or one untagged `*.pth` = forward), the
vocab `*.pkl` (list of tokens) and optionally `config.json` with the size; fastai's WikiText-103 download
(`lstm_fwd.pth`, `itos_wt103.pkl`, fastai's default size) and `kagglenlp imdb pretrain`'s output both fit.
"""
import json
import pickle
from pathlib import Path

from ..errors import UserError, require
from .fit import last_done, run_stages

__all__ = ["direction", "lm_config", "find_pretrained", "lm_learner", "load_pretrained", "save_pretrained",
           "save_encoder", "finetune_lm", "generate"]


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
        hit = [p for p in pths if tag in p.stem] or ([] if backwards or len(pths) != 1 or "bwd" in pths[0].stem else pths)
        if not hit: continue
        pkls = sorted(d.glob("*.pkl"))
        require(len(pkls) == 1, f"{d}: expected one vocab *.pkl next to {hit[0].name}, found {len(pkls)}")
        cfg = d/"config.json"
        arch = json.loads(cfg.read_text()).get("arch", {}) if cfg.exists() else {}
        return hit[0], pkls[0], arch
    raise UserError(f"no {'backward' if backwards else 'forward'} LM weights (*{tag}*.pth) in {', '.join(map(str, dirs))}")


def lm_learner(dls, arch, drop_mult, path, model_dir="models"):
    "AWD-LSTM language-model learner on `dls` with accuracy and perplexity, writing under `path`."
    from fastai.text.all import AWD_LSTM, Perplexity, accuracy, language_model_learner
    return language_model_learner(dls, AWD_LSTM, config=lm_config(arch), drop_mult=drop_mult, pretrained=False,
                                  metrics=[accuracy, Perplexity()], path=path, model_dir=model_dir)


def load_pretrained(learn, wgts, vocab):
    "Load general-domain `wgts` with `vocab` into `learn`, matching embeddings to its vocab; clear error on size mismatch."
    try: learn.load_pretrained(wgts, vocab)
    except RuntimeError as e:
        raise UserError(f"{wgts} does not fit this AWD-LSTM size (set --emb-sz/--n-hid/--n-layers to the pretrained "
                        f"model's or add its config.json): {str(e).splitlines()[0]}") from None
    return learn


def save_pretrained(learn, out, arch, backwards=False):
    "Save `learn`'s LM as a pretrained folder `out`: `lstm_<dir>.pth`, `itos.pkl`, `config.json`."
    import torch
    out = Path(out); out.mkdir(parents=True, exist_ok=True)
    torch.save(learn.model.state_dict(), out/f"lstm_{direction(backwards)}.pth")
    with open(out/"itos.pkl", "wb") as f: pickle.dump(list(learn.dls.vocab), f)
    (out/"config.json").write_text(json.dumps(dict(arch=arch), indent=1))
    return out


def save_encoder(learn, backwards=False):
    "Save `learn`'s encoder as `models/encoder_<dir>.pth` with its vocab beside it; returns the two paths."
    name = f"encoder_{direction(backwards)}"
    learn.save_encoder(name)
    mdir = Path(learn.path)/learn.model_dir
    with open(mdir/f"{name}_vocab.pkl", "wb") as f: pickle.dump(list(learn.dls.vocab), f)
    return mdir/f"{name}.pth", mdir/f"{name}_vocab.pkl"


def finetune_lm(dls, c, arch, exp, stages, backwards=False, log=print):
    "Step 2: LM of size `arch` on IMDb `dls` (from `c.pretrained` when given), fit through `stages`."
    from .fit import fp16_if_gpu
    learn = lm_learner(dls, arch, c.lm_drop_mult, exp)
    if c.pretrained and not last_done_any(learn, f"lm_{direction(backwards)}", stages):
        wgts, vocab, _ = find_pretrained(c.pretrained, backwards)
        load_pretrained(learn, wgts, vocab)
        log(f"loaded general LM {wgts}")
    learn = fp16_if_gpu(learn)
    return run_stages(learn, stages, f"lm_{direction(backwards)}", exp, log)


def last_done_any(learn, prefix, stages):
    "True when some stage of `prefix` was already checkpointed (so pretrained weights need not be loaded)."
    return last_done(learn, prefix, stages) >= 0


def generate(learn, prompt, n_words=40, temperature=0.75, n=1):
    "`n` continuations of `prompt` of `n_words` words sampled from LM `learn` at `temperature`."
    return [learn.predict(prompt, n_words, temperature=temperature) for _ in range(n)]
