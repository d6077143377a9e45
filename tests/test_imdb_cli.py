"""Bad input to `kagglenlp imdb ...`: one `error:` line, exit code 2, nothing written or overwritten."""
import pickle

import pandas as pd
import pytest

from kagglenlp.cli import main
from kagglenlp.errors import UserError
from kagglenlp.imdb.toy import write_toy_csv, write_toy_folder

TINY = ["--emb-sz", "16", "--n-hid", "32", "--n-layers", "1", "--bs", "8", "--seq-len", "16", "--threads", "1",
        "--min-freq", "1", "--lm-epochs", "1", "1", "--clas-epochs", "1", "1", "1", "1"]


@pytest.fixture
def root(tmp_path, monkeypatch):
    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    return tmp_path


def fails(capsys, argv, msg):
    "Run `argv`, assert exit 2 and `msg` in the one-line stderr error."
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err and err[-1].startswith("error: ") and msg in err[-1], err
    return err[-1]


def test_empty_folder(root, capsys):
    (root/"empty").mkdir()
    fails(capsys, ["imdb", "train", "--data", str(root/"empty"), "--name", "x", *TINY], "no .txt files")
    assert not (root/"outputs"/"x").exists()


@pytest.mark.parametrize("cols,msg", [(dict(label=["a", "b"], review=["x", "y"]), "missing column(s) text"),
                                      (dict(text=["x", "y"]), "missing column(s) label"),
                                      (dict(label=["pos"]*4, text=list("abcd")), "at least 2 classes")])
def test_bad_csv(root, capsys, cols, msg):
    pd.DataFrame(cols).to_csv(root/"bad.csv", index=False)
    fails(capsys, ["imdb", "train", "--data", str(root/"bad.csv"), "--name", "x", *TINY], msg)
    assert not (root/"outputs"/"x").exists()


def test_missing_pretrained_and_corpus(root, capsys):
    csv = write_toy_csv(root/"s.csv", n=12)
    fails(capsys, ["imdb", "train", "--data", str(csv), "--pretrained", str(root/"nowhere"), "--name", "x", *TINY],
          f"pretrained folder {root/'nowhere'} does not exist")
    (root/"half").mkdir(); (root/"half"/"lstm_fwd.pth").write_bytes(b"")
    fails(capsys, ["imdb", "train", "--data", str(csv), "--pretrained", str(root/"half"), "--name", "x", *TINY],
          "expected one vocab *.pkl")
    (root/"half"/"itos.pkl").write_bytes(b"")
    fails(capsys, ["imdb", "train", "--data", str(csv), "--pretrained", str(root/"half"), "--backwards", "--name", "x", *TINY],
          "no backward LM weights")
    fails(capsys, ["imdb", "pretrain", "--corpus", str(root/"none.txt")], "corpus file not found")
    fails(capsys, ["imdb", "train", "--data", str(csv), "--lm-epochs", "1", "--name", "x"], "need 2 values each")
    fails(capsys, ["imdb", "predict", "--model", str(root/"m.pkl"), "--texts", str(csv)], "model file not found")
    assert not (root/"outputs"/"x").exists()


def test_vocab_mismatch_and_changed_settings_refused(root, capsys):
    csv = write_toy_csv(root/"s.csv", n=16)
    assert main(["imdb", "train", "--data", str(csv), "--name", "v", *TINY]) == 0
    exp = root/"outputs"/"v"
    snap = {p: p.read_bytes() for p in [exp/"metrics.json", exp/"vocab.pkl", exp/"config.json", exp/"classifier_fwd.pkl"]}
    df = pd.read_csv(csv); df["text"] = df["text"] + " zebra giraffe"; df.to_csv(csv, index=False)
    err = fails(capsys, ["imdb", "train", "--data", str(csv), "--name", "v", *TINY], "vocab mismatch")
    assert str(exp/"vocab.pkl") in err and str(csv) in err
    fails(capsys, ["imdb", "train", "--data", str(csv), "--name", "v", *TINY[:-1], "2"], "different settings (clas_epochs)")
    assert all(p.read_bytes() == b for p, b in snap.items())  # nothing overwritten


def test_encoder_vocab_mismatch_names_files(root):
    from kagglenlp.imdb.classifier import check_vocab, load_encoder_checked
    from kagglenlp.imdb.data import clas_dls, make_lm_vocab, read_texts, tokenize_cached
    from kagglenlp.imdb.classifier import clas_learner
    df = tokenize_cached(read_texts(write_toy_folder(root/"acl", n_train=8, n_test=4, n_unsup=0)), 1)
    vocab = make_lm_vocab(df, min_freq=1)
    learn = clas_learner(clas_dls(df, vocab, bs=4, seq_len=8), dict(emb_sz=8, n_hid=8, n_layers=1), 0.5, 8, root)
    other = root/"enc_vocab.pkl"
    with open(other, "wb") as f: pickle.dump(vocab[:-8] + ["zebra"]*8, f)
    with pytest.raises(UserError, match="vocab mismatch: .*enc_vocab.pkl .*disagrees with the classifier's data vocab"):
        load_encoder_checked(learn, root/"enc.pth", other)
    with open(other, "wb") as f: pickle.dump(list(vocab), f)
    check_vocab(vocab, other, "same")  # equal vocabs pass


def test_help_is_light():
    import subprocess, sys
    with pytest.raises(SystemExit) as e: main(["imdb", "train", "--help"])
    assert e.value.code == 0
    code = "import sys; from kagglenlp.cli import build_parser; build_parser(); print('fastai' in sys.modules, 'torch' in sys.modules)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.stdout.split() == ["False", "False"], r.stderr
