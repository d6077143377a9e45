"""Pooling heads, losses, learning-rate groups and the bi-encoder: units, and CLI runs that save and reload each."""

import json

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import PATENTS_TINY as TINY
from helpers import one_error_line as _err
from helpers import patents

from kagglenlp.patents.data import demo_frames, write_demo

# each new option at least once, in two runs (training is what costs time; `mean` shares the attention run's class
# and code path, its pooling is tested above)
RUNS = {
    "attn": [
        "--arch",
        "cross",
        "--pool",
        "attention",
        "--loss",
        "bce",
        "--head-lr",
        "1e-3",
        "--lr-decay",
        "0.8",
        "--head-dropout",
        "0.2",
        "--text",
        "cpc",
        "--max-len",
        "32",
    ],
    "bi": ["--arch", "bi", "--text", "cpc", "--loss", "bce", "--head-lr", "1e-2", "--max-len", "32"],
}


@pytest.fixture(scope="module")
def minilm():
    "MiniLM's tokenizer and bare encoder."
    from kagglenlp.patents.models.backbone import load_backbone, load_tokenizer

    torch.manual_seed(0)
    return load_tokenizer("minilm"), load_backbone("minilm").eval()


def test_mean_pool_ignores_padding():
    from kagglenlp.patents.models.heads import mean_pool, pool_states

    states = torch.randn(2, 5, 4)
    mask = torch.tensor([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]])
    got = mean_pool(states, mask)
    assert torch.allclose(got[0], states[0, :3].mean(0)) and torch.allclose(got[1], states[1].mean(0))
    noisy = states.clone()
    noisy[0, 3:] = 1e6  # whatever sits at padded positions never counts
    assert torch.allclose(mean_pool(noisy, mask), got)
    attn = torch.nn.Linear(4, 1)
    assert torch.allclose(
        pool_states(noisy, mask, "attention", attn)[0], pool_states(states, mask, "attention", attn)[0]
    )
    assert torch.equal(pool_states(states, mask, "cls"), states[:, 0])


def test_mean_pooled_embedding_same_alone_or_padded(minilm):
    from kagglenlp.patents.models.infer import embed_texts

    tok, enc = minilm
    texts = ["gear", "a much longer phrase about a toothed gear wheel in a gearbox housing"]
    both = embed_texts(enc, tok, texts, bs=2)
    alone = embed_texts(enc, tok, texts[:1], bs=1)
    assert np.allclose(both[0], alone[0], atol=1e-5) and not np.allclose(both[0], both[1], atol=1e-2)


def test_bi_scores_from_cached_phrases_equal_pairwise_forward(minilm):
    from kagglenlp.patents.models.bi import PairCollator, bi_class, predict_pairs, tokenize_pairs
    from kagglenlp.patents.models.infer import phrase_cosines

    tok, enc = minilm
    model = bi_class()(enc, "mse").eval()
    with torch.no_grad():
        model.scale.fill_(1.7)
        model.bias.fill_(-0.2)
    trn = demo_frames()[0].iloc[:40]
    a, b = list(trn["anchor"]), list(trn["target"])
    assert len(set(a)) < len(a)  # anchors repeat: the cache is used
    cached = predict_pairs(model, tok, a, b, bs=7)
    batch = PairCollator(tok)([dict(zip(ds_row.keys(), ds_row.values())) for ds_row in tokenize_pairs(tok, a, b)])
    batch.pop("labels", None)
    with torch.no_grad():
        uncached = model(**batch).logits.numpy()
    assert np.allclose(cached, uncached, atol=1e-5)
    # an untrained bi-encoder (scale 1, bias 0) scores exactly the zero-shot cosine
    zs = phrase_cosines(enc, tok, a, b)
    assert np.allclose(predict_pairs(bi_class()(enc, "mse"), tok, a, b), zs, atol=1e-6)


def test_param_groups_head_lr_and_layer_decay(minilm):
    from kagglenlp.patents.models.cross import cross_class
    from kagglenlp.patents.trainer import param_groups

    model = cross_class()(minilm[1], "attention", "mse", 0.1)
    groups = param_groups(model, 1e-4, head_lr=1e-3, lr_decay=0.5)
    lr_of = {id(p): g["lr"] for g in groups for p in g["params"]}
    named = dict(model.named_parameters())
    n = model.backbone.config.num_hidden_layers
    assert lr_of[id(named["head.weight"])] == lr_of[id(named["attn.0.weight"])] == 1e-3
    top = [k for k in named if f"layer.{n - 1}." in k][0]
    bottom = [k for k in named if "layer.0." in k][0]
    assert lr_of[id(named[top])] == pytest.approx(1e-4)
    assert lr_of[id(named[bottom])] == pytest.approx(1e-4 * 0.5 ** (n - 1))
    assert lr_of[id(named["backbone.embeddings.word_embeddings.weight"])] == pytest.approx(1e-4 * 0.5**n)
    assert sum(len(g["params"]) for g in groups) == len(named)
    flat = param_groups(model, 1e-4)
    assert {g["lr"] for g in flat} == {1e-4}


def test_bce_loss_and_sigmoid_at_prediction():
    from kagglenlp.patents.models.heads import pair_loss
    from kagglenlp.patents.models.recipe import postprocess

    logits, y = torch.tensor([0.0, 2.0]), torch.tensor([0.5, 1.0])
    want = torch.nn.functional.binary_cross_entropy(torch.sigmoid(logits), y)
    assert torch.isclose(pair_loss(logits, y, "bce"), want)
    assert torch.isclose(pair_loss(logits, y, "mse"), ((logits - y) ** 2).mean())
    assert np.allclose(postprocess({"loss": "bce"}, [0.0, 2.0]), [0.5, 1 / (1 + np.exp(-2))])
    assert np.allclose(postprocess({"loss": "mse"}, [0.0, 2.0]), [0.0, 2.0])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    "The demo data and one tiny 2-fold experiment per entry of RUNS; yields the project root."
    root = tmp_path_factory.mktemp("quality")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KAGGLENLP_ROOT", str(root))
        mp.chdir(root)
        d = write_demo(root / "input" / "demo")
        for name, extra in RUNS.items():
            assert patents("train", "--data", d, *TINY, *extra, "--name", name) == 0
        yield root


@pytest.mark.e2e  # trains end to end
@pytest.mark.parametrize("name", list(RUNS))
def test_saved_head_models_reload_and_predict_the_same(trained, monkeypatch, name):
    monkeypatch.chdir(trained)
    out = trained / "outputs" / name
    fmt = json.loads((out / "fold0" / "input_format.json").read_text())
    flags = dict(zip(RUNS[name][::2], RUNS[name][1::2]))
    assert fmt["arch"] == flags.get("--arch", "cross") and fmt["loss"] == flags.get("--loss", "mse")
    assert (out / "fold0" / "head.safetensors").exists() and (out / "fold0" / "config.json").exists()
    oof = pd.read_csv(out / "oof.csv")
    assert len(oof) == len(demo_frames()[0]) and np.isfinite(oof["pred"]).all()
    if flags.get("--loss") == "bce":
        raw = pd.read_csv(out / "test_preds.csv").drop(columns="id").values
        assert ((raw > 0) & (raw < 1)).all()  # sigmoid outputs
    pred = trained / f"pred-{name}.csv"
    assert patents("predict", "--data", "input/demo", "--models", f"outputs/{name}", "--out", pred) == 0
    a, b = pd.read_csv(pred), pd.read_csv(trained / "submissions" / f"{name}.csv")
    assert a["id"].tolist() == b["id"].tolist() and b["score"].std() > 0
    assert np.allclose(a["score"], b["score"], atol=1e-5)


def test_head_options_bad_values_fail_before_writing(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    for bad, msg in (
        (["--arch", "bi", "--text", "cpc-siblings"], "--arch bi"),
        (["--lr-decay", "0"], "--lr-decay"),
        (["--head-dropout", "1"], "--head-dropout"),
        (["--head-lr", "-1"], "--head-lr"),
    ):
        assert patents("train", "--data", d, *TINY, *bad, "--name", "bad") == 2
        assert msg in _err(capsys)
    assert not (proj / "outputs").exists() or not any((proj / "outputs").iterdir())
