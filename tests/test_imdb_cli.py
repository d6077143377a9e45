"""Bad input to `kagglenlp imdb ...`: one `error:` line, exit code 2, nothing written or overwritten."""

import pickle

import pandas as pd
import pytest
from helpers import IMDB_TINY

from kagglenlp.cli import main
from kagglenlp.errors import UserError
from kagglenlp.imdb.toy import write_toy_csv, write_toy_folder

TINY = IMDB_TINY


def fails(capsys, argv, msg):
    "Run `argv`, assert exit 2 and `msg` in the one-line stderr error."
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and msg in err[-1], err
    return err[-1]


def test_empty_folder(root, capsys):
    (root / "empty").mkdir()
    fails(capsys, ["imdb", "train", "--data", str(root / "empty"), "--name", "x", *TINY], "no .txt files")
    assert not (root / "outputs" / "x").exists()


@pytest.mark.parametrize(
    "cols,msg",
    [
        (dict(label=["a", "b"], review=["x", "y"]), "missing column(s) text"),
        (dict(text=["x", "y"]), "missing column(s) label"),
        (dict(label=["pos"] * 4, text=list("abcd")), "at least 2 classes"),
    ],
)
def test_bad_csv(root, capsys, cols, msg):
    pd.DataFrame(cols).to_csv(root / "bad.csv", index=False)
    fails(capsys, ["imdb", "train", "--data", str(root / "bad.csv"), "--name", "x", *TINY], msg)
    assert not (root / "outputs" / "x").exists()


def test_missing_pretrained_and_corpus(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=12)
    fails(
        capsys,
        ["imdb", "train", "--data", str(csv), "--pretrained", str(root / "nowhere"), "--name", "x", *TINY],
        f"pretrained folder {root / 'nowhere'} does not exist",
    )
    (root / "half").mkdir()
    (root / "half" / "lstm_fwd.pth").write_bytes(b"")
    fails(
        capsys,
        ["imdb", "train", "--data", str(csv), "--pretrained", str(root / "half"), "--name", "x", *TINY],
        "expected one vocab *.pkl",
    )
    (root / "half" / "itos.pkl").write_bytes(b"")
    fails(
        capsys,
        ["imdb", "train", "--data", str(csv), "--pretrained", str(root / "half"), "--backwards", "--name", "x", *TINY],
        "no backward LM weights",
    )
    fails(capsys, ["imdb", "pretrain", "--corpus", str(root / "none.txt")], "corpus file not found")
    fails(capsys, ["imdb", "train", "--data", str(csv), "--lm-epochs", "1", "--name", "x"], "need 2 values each")
    fails(capsys, ["imdb", "predict", "--model", str(root / "m.pkl"), "--texts", str(csv)], "model file not found")
    assert not (root / "outputs" / "x").exists()


@pytest.mark.e2e  # trains end to end
def test_changed_data_and_settings_refused(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    assert main(["imdb", "train", "--data", str(csv), "--name", "v", *TINY]) == 0
    exp = root / "outputs" / "v"
    snap = {p: p.read_bytes() for p in exp.rglob("*") if p.is_file()}
    assert {"metrics.json", "vocab.pkl", "experiment.json", "classifier_fwd.pkl"} <= {p.name for p in snap}
    df = pd.read_csv(csv)
    df["text"] = df["text"] + " zebra giraffe"
    df.to_csv(csv, index=False)
    fails(capsys, ["imdb", "train", "--data", str(csv), "--name", "v", *TINY], "input data of experiment 'v' changed")
    write_toy_csv(csv, n=16)  # the original data again: only the setting differs now
    fails(
        capsys,
        ["imdb", "train", "--data", str(csv), "--name", "v", *TINY[:-1], "2"],
        "other settings (clas_epochs: [1, 1, 1, 1] -> [1, 1, 1, 2])",
    )
    assert {p: p.read_bytes() for p in exp.rglob("*") if p.is_file()} == snap  # nothing overwritten


def test_bad_input_refused_before_anything_is_written(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=16)
    (root / "cp.csv").write_bytes("label,text\npos,caf\u00e9\nneg,bad\n".encode("cp1252"))
    fails(capsys, ["imdb", "train", "--data", str(root / "cp.csv"), "--name", "x", *TINY], "cp.csv is not UTF-8 text")
    pd.DataFrame(dict(label=["pos", "neg"], text=["", "  "])).to_csv(root / "empty.csv", index=False)
    fails(capsys, ["imdb", "train", "--data", str(root / "empty.csv"), "--name", "x", *TINY], "every text is empty")
    fails(
        capsys,
        ["imdb", "train", "--data", str(csv), "--name", "x", *TINY, "--bs", "13", "--lm-valid-pct", "0.5"],
        "12 classifier training texts are fewer than one batch (--bs 13)",
    )
    assert not (root / "outputs" / "x").exists()


def test_bad_pretrained_weights_refused_before_anything_is_written(root, capsys):
    import torch
    from fastai.text.all import AWD_LSTM, get_language_model

    from kagglenlp.imdb.lm import lm_config

    csv = write_toy_csv(root / "s.csv", n=16)
    pre = root / "pre"
    pre.mkdir()
    lm = get_language_model(AWD_LSTM, 10, config=lm_config(dict(emb_sz=16, n_hid=32, n_layers=2)))
    torch.save(lm.state_dict(), pre / "lstm_fwd.pth")
    with open(pre / "itos.pkl", "wb") as f:
        pickle.dump([f"w{i}" for i in range(10)], f)
    argv = ["imdb", "train", "--data", str(csv), "--pretrained", str(pre), "--name", "x", *TINY]
    err = fails(capsys, argv, "lstm_fwd.pth is an AWD-LSTM of size {'emb_sz': 16, 'n_hid': 32, 'n_layers': 2}")
    assert "--n-layers" in err
    with open(pre / "itos.pkl", "wb") as f:
        pickle.dump(["a", "b"], f)
    fails(capsys, [*argv, "--n-layers", "2"], "embeds 10 tokens but its vocab")
    (pre / "lstm_fwd.pth").write_text("label,text\npos,a\n")
    fails(capsys, argv, "lstm_fwd.pth is not a PyTorch file of AWD-LSTM weights")
    assert not (root / "outputs" / "x").exists()


def test_predict_refuses_files_that_are_not_models(root, capsys):
    csv = write_toy_csv(root / "s.csv", n=4)
    err = fails(capsys, ["imdb", "predict", "--model", str(csv), "--texts", str(csv)], "s.csv is a text file")
    assert "--texts" in err and "classifier_fwd.pkl" in err
    (root / "junk.pkl").write_bytes(bytes(range(256)))
    fails(
        capsys,
        ["imdb", "predict", "--model", str(root / "junk.pkl"), "--texts", str(csv)],
        "is not a PyTorch/fastai file",
    )
    fails(
        capsys,
        ["imdb", "predict", "--model", str(root), "--texts", str(csv)],
        "is a folder; pass an exported classifier",
    )
    assert not (root / "predictions.csv").exists()


def test_encoder_vocab_mismatch_names_files(root):
    from kagglenlp.imdb.classifier import check_vocab, clas_learner, load_encoder_checked
    from kagglenlp.imdb.data import clas_dls, make_lm_vocab, read_texts, tokenize_cached

    df = tokenize_cached(read_texts(write_toy_folder(root / "acl", n_train=8, n_test=4, n_unsup=0)), 1)
    vocab = make_lm_vocab(df, min_freq=1)
    learn = clas_learner(clas_dls(df, vocab, bs=4, seq_len=8), dict(emb_sz=8, n_hid=8, n_layers=1), 0.5, 8, root)
    other = root / "enc_vocab.pkl"
    with open(other, "wb") as f:
        pickle.dump(vocab[:-8] + ["zebra"] * 8, f)
    with pytest.raises(UserError, match="vocab mismatch: .*enc_vocab.pkl .*disagrees with the classifier's data vocab"):
        load_encoder_checked(learn, root / "enc.pth", other)
    with open(other, "wb") as f:
        pickle.dump(list(vocab), f)
    check_vocab(vocab, other, "same")  # equal vocabs pass


@pytest.mark.parametrize(
    "cmd,required",
    [
        ("train", "--data DATA"),
        ("pretrain", "--corpus CORPUS"),
        ("predict", "--model MODEL"),
        ("predict", "--texts TEXTS"),
    ],
)
def test_help_shows_required_options(capsys, cmd, required):
    with pytest.raises(SystemExit):
        main(["imdb", cmd, "--help"])
    usage = " ".join(capsys.readouterr().out.split("\n\n")[0].split())
    assert f" {required}" in usage and f"[{required}" not in usage


def test_help_is_light():
    import subprocess
    import sys

    with pytest.raises(SystemExit) as e:
        main(["imdb", "train", "--help"])
    assert e.value.code == 0
    code = (
        "import sys; from kagglenlp.cli import build_parser; build_parser(); "
        "print('fastai' in sys.modules, 'torch' in sys.modules)"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["False", "False"], r.stderr
