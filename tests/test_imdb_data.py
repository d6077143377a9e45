"""Fast tests of the IMDb data layer: both layouts, the token cache, vocab and loaders, bad input (no training)."""

import pandas as pd
import pytest

from kagglenlp.errors import UserError
from kagglenlp.imdb import data
from kagglenlp.imdb.toy import write_toy_csv, write_toy_folder

pytestmark = pytest.mark.usefixtures("root")


def test_read_folder_labels_and_split(tmp_path):
    df = data.read_texts(write_toy_folder(tmp_path / "acl", n_train=8, n_test=4, n_unsup=3))
    assert len(df) == 15
    assert dict(df.groupby("split").size()) == {"train": 8, "test": 4, "unsup": 3}
    assert set(df.loc[df.split != "unsup", "label"]) == {"pos", "neg"} and set(
        df.loc[df.split == "unsup", "label"]
    ) == {""}
    assert (df.is_valid == (df.split == "test")).all()
    # the label is the parent folder: every pos review has a positive word from the generator
    assert df[df.label == "pos"].text.str.contains("great|wonderful|superb|moving|brilliant|loved").all()


def test_original_aclimdb_train_unsup_is_unlabelled(tmp_path):
    acl = write_toy_folder(tmp_path / "acl", n_train=4, n_test=2, n_unsup=0)
    (acl / "train" / "unsup").mkdir()
    (acl / "train" / "unsup" / "0_0.txt").write_text("no label here")
    df = data.read_texts(acl)
    assert df.loc[df.text == "no label here", "label"].tolist() == [""] and set(df.label) == {"pos", "neg", ""}
    assert df[df.label == "pos"].text.str.contains("great|wonderful|superb|moving|brilliant|loved").all()


def test_read_csv_keeps_or_makes_valid(tmp_path):
    df = data.read_texts(write_toy_csv(tmp_path / "t.csv", n=20, valid_pct=0.25))
    assert df.is_valid.sum() == 5 and (df.split[df.is_valid] == "test").all()
    pd.DataFrame(dict(label=["a", "b"] * 10, text=[f"t {i}" for i in range(20)])).to_csv(
        tmp_path / "nv.csv", index=False
    )
    a, b = (
        data.read_texts(tmp_path / "nv.csv", valid_pct=0.2, seed=1),
        data.read_texts(tmp_path / "nv.csv", valid_pct=0.2, seed=1),
    )
    assert a.is_valid.sum() == 4 and (a.is_valid == b.is_valid).all()


@pytest.mark.parametrize(
    "content,msg",
    [
        ("text\nhello\n", "missing column(s) label"),
        ("label,txt\na,b\n", "label,text"),
        ("", "is empty"),
        ("label,text\n", "no rows"),
    ],
)
def test_bad_csv(tmp_path, content, msg):
    (tmp_path / "bad.csv").write_text(content)
    with pytest.raises(UserError, match=msg.replace("(", r"\(").replace(")", r"\)")):
        data.read_texts(tmp_path / "bad.csv")


def test_empty_folder_and_missing(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match="no .txt files"):
        data.read_texts(tmp_path / "empty")
    with pytest.raises(UserError, match="no such file"):
        data.read_texts(tmp_path / "nope")


def test_tokenize_cache_reused(tmp_path, monkeypatch):
    df = data.read_texts(write_toy_folder(tmp_path / "acl", n_train=6, n_test=4, n_unsup=2))
    tok = data.tokenize_cached(df, n_workers=1)
    files = list(data.tok_cache_dir().glob("*.pkl"))
    assert len(files) == 1 and files[0].stem == data.texts_key(df.text)
    assert tok.toks.map(len).eq(tok.toks_length).all() and tok.toks.iloc[0][0] == "xxbos"
    import fastai.text.all as fta

    monkeypatch.setattr(fta, "tokenize_texts", lambda *a, **k: pytest.fail("cache not used"))
    again = data.tokenize_cached(df)
    assert list(again.toks) == list(tok.toks)
    changed = df.assign(text=df.text + " extra")
    assert data.texts_key(changed.text) != data.texts_key(df.text)


def test_text_of_handles_rows_strings_and_tokens():
    assert data.text_of("raw") == "raw" and data.text_of(["a", "b"]) == ["a", "b"]
    assert data.text_of(pd.Series(dict(text="raw", toks=["x"]))) == ["x"]
    assert data.text_of(pd.Series(dict(text="raw"))) == "raw"


def test_loaders_share_lm_vocab(tmp_path):
    df = data.tokenize_cached(data.read_texts(write_toy_folder(tmp_path / "acl", n_train=8, n_test=4, n_unsup=4)), 1)
    vocab = data.make_lm_vocab(df, min_freq=1)
    lm = data.lm_dls(df, vocab, bs=4, seq_len=8)
    x, y = lm.one_batch()
    assert x.shape == (4, 8) and (x[:, 1:] == y[:, :-1]).all()  # the target is the text shifted by one token
    cl = data.clas_dls(df, vocab, bs=4, seq_len=8)
    assert list(cl.vocab[0]) == list(vocab) and list(cl.vocab[1]) == ["neg", "pos"]
    assert len(cl.train_ds) == 8 and len(cl.valid_ds) == 4  # unsup rows are LM-only
    assert len(lm.train_ds) + len(lm.valid_ds) == 16


def test_single_class_refused(tmp_path):
    df = pd.DataFrame(
        dict(
            text=["a b c"] * 6,
            label="pos",
            is_valid=[False] * 4 + [True] * 2,
            split="train",
            toks=[["a"]] * 6,
            toks_length=1,
        )
    )
    with pytest.raises(UserError, match="at least 2 classes"):
        data.clas_dls(df, ["xxunk", "xxpad", "a"])


def test_sources_prefer_attached_kaggle_datasets(tmp_path, monkeypatch):
    from kagglenlp.imdb import sources

    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setenv("KAGGLENLP_KAGGLE_ROOT", str(tmp_path))  # the mounts come from kagglenlp.paths only
    monkeypatch.setattr(sources, "online", lambda *a, **k: False)
    assert sources.find_wt103() is None
    acl = write_toy_folder(tmp_path / "input" / "imdb" / "aclImdb", n_train=2, n_test=2, n_unsup=0)
    wt = tmp_path / "input" / "datasets" / "alice" / "wt103-fwd" / "wt103-fwd"  # Kaggle's datasets/<owner>/ layout
    wt.mkdir(parents=True)
    (wt / "lstm_fwd.pth").write_bytes(b"")
    (wt / "itos_wt103.pkl").write_bytes(b"")
    assert sources.find_imdb() == acl and sources.find_wt103() == wt
    monkeypatch.delenv("KAGGLE_KERNEL_RUN_TYPE")
    assert sources.find_wt103() is None  # locally nothing is looked up under the Kaggle root


def test_empty_texts_dropped_with_a_note(tmp_path, capsys):
    rows = dict(label=["pos", "neg", "pos", "neg", "pos"], text=["good fun", "", "   ", "awful", None])
    pd.DataFrame(rows).to_csv(tmp_path / "e.csv", index=False)
    df = data.read_texts(tmp_path / "e.csv")
    assert df.text.tolist() == ["good fun", "awful"]
    assert "dropped 3 of 5 texts that are empty" in capsys.readouterr().out
    acl = write_toy_folder(tmp_path / "acl", n_train=4, n_test=2, n_unsup=0)
    (acl / "train" / "pos" / "empty.txt").write_text("\n")
    assert len(data.read_texts(acl)) == 6 and "dropped 1 of 7" in capsys.readouterr().out
    pd.DataFrame(dict(label=["pos", "neg"], text=["", " "])).to_csv(tmp_path / "none.csv", index=False)
    with pytest.raises(UserError, match="every text is empty"):
        data.read_texts(tmp_path / "none.csv")


def test_non_utf8_files_refused(tmp_path):
    (tmp_path / "cp1252.csv").write_bytes("label,text\npos,caf\u00e9 cr\u00e8me\nneg,bad\n".encode("cp1252"))
    with pytest.raises(UserError, match=r"cp1252.csv is not UTF-8 text .*save it as UTF-8"):
        data.read_texts(tmp_path / "cp1252.csv")
    acl = write_toy_folder(tmp_path / "acl", n_train=2, n_test=2, n_unsup=0)
    (acl / "train" / "pos" / "bad.txt").write_bytes(b"\xff\xfe garbage")
    with pytest.raises(UserError, match="bad.txt is not UTF-8 text"):
        data.read_texts(acl)
    (tmp_path / "c.txt").write_bytes(b"ok\n\x96 dash\n")
    with pytest.raises(UserError, match="c.txt is not UTF-8 text"):
        data.read_corpus([tmp_path / "c.txt"])


def test_batch_size_checked_against_both_models(tmp_path):
    df = data.tokenize_cached(data.read_texts(write_toy_csv(tmp_path / "t.csv", n=8)), 1)  # 6 train / 2 valid
    data.check_batches(df, bs=4, lm_valid_pct=0.25)
    with pytest.raises(UserError, match="6 classifier training texts are fewer than one batch"):
        data.check_batches(df, bs=8, lm_valid_pct=0.25)
    with pytest.raises(UserError, match="validation split \\(0 of 8 texts"):
        data.check_batches(df, bs=4, lm_valid_pct=0.1)


def test_plot_loss_leaves_the_matplotlib_backend_alone(tmp_path):
    import os
    import subprocess
    import sys

    code = """
import sys, matplotlib
from types import SimpleNamespace
from kagglenlp.imdb.fit import plot_loss
rec = SimpleNamespace(losses=[3.0, 2.0, 1.5, 1.2], plot_loss=lambda skip_start, ax: ax.plot([3.0, 2.0, 1.5, 1.2]))
plot_loss(SimpleNamespace(recorder=rec), sys.argv[1])
print(matplotlib.get_backend(), "matplotlib.pyplot" in sys.modules)
"""
    png = tmp_path / "plots" / "x.png"
    env = {**os.environ, "MPLBACKEND": "svg"}  # a notebook's own backend choice
    r = subprocess.run([sys.executable, "-c", code, str(png)], capture_output=True, text=True, env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["svg", "False"] and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
