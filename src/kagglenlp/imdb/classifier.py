"""Step 3: the text classifier on the fine-tuned encoder, gradual unfreezing; forward+backward ensemble."""

import pickle
from pathlib import Path

from ..errors import UserError
from .fit import export_learner, fp16_if_gpu, last_done, run_stages
from .lm import direction, lm_config

__all__ = ["clas_learner", "check_vocab", "load_encoder_checked", "train_classifier", "valid_probs", "ensemble"]


def clas_learner(dls, arch, drop_mult, seq_len, path, model_dir="models"):
    "AWD-LSTM classifier learner of size `arch` on `dls` (BPTT `seq_len`) with accuracy, writing under `path`."
    from fastai.text.all import AWD_LSTM, accuracy, text_classifier_learner

    return text_classifier_learner(
        dls,
        AWD_LSTM,
        seq_len=seq_len,
        config=lm_config(arch, clas=True),
        pretrained=False,
        drop_mult=drop_mult,
        metrics=accuracy,
        path=path,
        model_dir=model_dir,
    )


def check_vocab(vocab, vocab_file, what):
    "Raise `UserError` naming `vocab_file` and `what` unless the pickled vocab in `vocab_file` equals `vocab`."
    with open(vocab_file, "rb") as f:
        saved = list(pickle.load(f))
    if saved == list(vocab):
        return
    n_diff = sum(a != b for a, b in zip(saved, vocab)) + abs(len(saved) - len(vocab))
    raise UserError(
        f"vocab mismatch: {vocab_file} ({len(saved)} tokens) disagrees with {what} ({len(vocab)} tokens, "
        f"{n_diff} positions differ); the encoder and classifier must share the LM's vocab"
    )


def load_encoder_checked(learn, enc_file, vocab_file):
    """Load encoder `enc_file` into classifier `learn` after checking its `vocab_file` against the classifier's
    vocab."""
    import torch

    check_vocab(learn.dls.vocab[0], vocab_file, "the classifier's data vocab")
    emb = torch.load(enc_file, map_location="cpu")["encoder.weight"]
    n_vocab = len(learn.dls.vocab[0])
    if emb.shape[0] != n_vocab:
        raise UserError(
            f"vocab mismatch: {enc_file} embeds {emb.shape[0]} tokens but the classifier has {n_vocab}",
        )
    try:
        learn.load_encoder(Path(enc_file).resolve().with_suffix(""))
    except RuntimeError as e:
        raise UserError(
            f"{enc_file} does not fit the classifier's AWD-LSTM size: {str(e).splitlines()[0]}",
        ) from None
    return learn


def train_classifier(dls, c, arch, exp, stages, enc, backwards=False, log=print):
    """Classifier of size `arch` on `dls` from encoder files `enc` = (weights, vocab), fit through `stages`;
    exported."""
    learn = clas_learner(dls, arch, c.clas_drop_mult, c.seq_len, exp)
    load_encoder_checked(learn, *enc)
    learn = fp16_if_gpu(learn)
    prefix, fname = f"clas_{direction(backwards)}", Path(exp) / f"classifier_{direction(backwards)}.pkl"
    exported = fname.exists() and last_done(learn, prefix, stages) == len(stages) - 1  # a resumed, finished one
    learn = run_stages(learn, stages, prefix, exp, log)
    if hasattr(learn, "to_fp32"):
        learn = learn.to_fp32()
    if not exported:
        export_learner(learn, fname)
    return learn


def valid_probs(learn):
    "Probabilities and targets of `learn` on its validation set, in dataset order."
    probs, targs = learn.get_preds(dl=learn.dls.valid, reorder=True)
    return probs, targs


def ensemble(probs_list, targs):
    "Accuracy of each probability tensor in `probs_list` and of their mean against `targs`."
    import torch

    accs = [float((p.argmax(1) == targs).float().mean()) for p in probs_list]
    avg = torch.stack(list(probs_list)).mean(0)
    return accs, float((avg.argmax(1) == targs).float().mean())
