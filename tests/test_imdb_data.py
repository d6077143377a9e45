"""Fast tests of the IMDb data layer: both layouts, the token cache, vocab and loaders, bad input (no training)."""
import pandas as pd
import pytest

from kagglenlp.errors import UserError
from kagglenlp.imdb import data
from kagglenlp.imdb.toy import write_toy_csv, write_toy_folder


@pytest.fixture(autouse=True)
def _root(tmp_path, monkeypatch): monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))


def test_read_folder_labels_and_split(tmp_path):
    df = data.read_texts(write_toy_folder(tmp_path/"acl", n_train=8, n_test=4, n_unsup=3))
    assert len(df) == 15
    assert dict(df.groupby("split").size()) == {"train": 8, "test": 4, "unsup": 3}
    assert set(df.loc[df.split != "unsup", "label"]) == {"pos", "neg"} and set(df.loc[df.split == "unsup", "label"]) == {""}
    assert (df.is_valid == (df.split == "test")).all()
    # the label is the parent folder: every pos review has a positive word from the generator
    assert df[df.label == "pos"].text.str.contains("great|wonderful|superb|moving|brilliant|loved").all()


def test_original_aclimdb_train_unsup_is_unlabelled(tmp_path):
    acl = write_toy_folder(tmp_path/"acl", n_train=4, n_test=2, n_unsup=0)
    (acl/"train"/"unsup").mkdir(); (acl/"train"/"unsup"/"0_0.txt").write_text("no label here")
    df = data.read_texts(acl)
    assert df.loc[df.text == "no label here", "label"].tolist() == [""] and set(df.label) == {"pos", "neg", ""}
    assert df[df.label == "pos"].text.str.contains("great|wonderful|superb|moving|brilliant|loved").all()


def test_read_csv_keeps_or_makes_valid(tmp_path):
    df = data.read_texts(write_toy_csv(tmp_path/"t.csv", n=20, valid_pct=0.25))
    assert df.is_valid.sum() == 5 and (df.split[df.is_valid] == "test").all()
    pd.DataFrame(dict(label=["a", "b"]*10, text=[f"t {i}" for i in range(20)])).to_csv(tmp_path/"nv.csv", index=False)
    a, b = data.read_texts(tmp_path/"nv.csv", valid_pct=0.2, seed=1), data.read_texts(tmp_path/"nv.csv", valid_pct=0.2, seed=1)
    assert a.is_valid.sum() == 4 and (a.is_valid == b.is_valid).all()


@pytest.mark.parametrize("content,msg", [("text\nhello\n", "missing column(s) label"), ("label,txt\na,b\n", "label,text"),
                                         ("", "cannot read"), ("label,text\n", "no rows")])
def test_bad_csv(tmp_path, content, msg):
    (tmp_path/"bad.csv").write_text(content)
    with pytest.raises(UserError, match=msg.replace("(", r"\(").replace(")", r"\)")): data.read_texts(tmp_path/"bad.csv")


def test_empty_folder_and_missing(tmp_path):
    (tmp_path/"empty").mkdir()
    with pytest.raises(UserError, match="no .txt files"): data.read_texts(tmp_path/"empty")
    with pytest.raises(UserError, match="no such file"): data.read_texts(tmp_path/"nope")


def test_tokenize_cache_reused(tmp_path, monkeypatch):
    df = data.read_texts(write_toy_folder(tmp_path/"acl", n_train=6, n_test=4, n_unsup=2))
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
    df = data.tokenize_cached(data.read_texts(write_toy_folder(tmp_path/"acl", n_train=8, n_test=4, n_unsup=4)), 1)
    vocab = data.make_lm_vocab(df, min_freq=1)
    lm = data.lm_dls(df, vocab, bs=4, seq_len=8)
    x, y = lm.one_batch()
    assert x.shape == (4, 8) and (x[:, 1:] == y[:, :-1]).all()  # the target is the text shifted by one token
    cl = data.clas_dls(df, vocab, bs=4, seq_len=8)
    assert list(cl.vocab[0]) == list(vocab) and list(cl.vocab[1]) == ["neg", "pos"]
    assert len(cl.train_ds) == 8 and len(cl.valid_ds) == 4  # unsup rows are LM-only
    assert len(lm.train_ds) + len(lm.valid_ds) == 16


def test_single_class_refused(tmp_path):
    df = pd.DataFrame(dict(text=["a b c"]*6, label="pos", is_valid=[False]*4 + [True]*2, split="train", toks=[["a"]]*6, toks_length=1))
    with pytest.raises(UserError, match="at least 2 classes"): data.clas_dls(df, ["xxunk", "xxpad", "a"])


def test_sources_prefer_attached_kaggle_datasets(tmp_path, monkeypatch):
    from kagglenlp.imdb import sources
    monkeypatch.setenv("KAGGLE_KERNEL_RUN_TYPE", "Batch")
    monkeypatch.setattr(sources, "kaggle_input", lambda slug: tmp_path/"input"/slug)
    monkeypatch.setattr(sources, "online", lambda *a, **k: False)
    assert sources.find_wt103() is None
    acl = write_toy_folder(tmp_path/"input"/"imdb"/"aclImdb", n_train=2, n_test=2, n_unsup=0)
    wt = tmp_path/"input"/"wt103-fwd"/"wt103-fwd"; wt.mkdir(parents=True)
    (wt/"lstm_fwd.pth").write_bytes(b""); (wt/"itos_wt103.pkl").write_bytes(b"")
    assert sources.find_imdb() == acl and sources.find_wt103() == wt
