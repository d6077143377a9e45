"""The DeBERTa-v3 path without weights: the real deberta-v3-small tokenizer and a training step on its architecture."""

import numpy as np
import pandas as pd
import pytest

from kagglenlp.patents.config import PatentsConfig
from kagglenlp.patents.inputs import make_inputs, model_sep
from kagglenlp.patents.trainer import make_trainer, predict_ds, tokenize, training_arguments


@pytest.fixture(scope="module")
def deb(data_dir):
    d = data_dir / "deberta-v3-small-tokenizer"
    if not d.exists():
        pytest.skip(f"{d} not found")
    return d


def test_tokenizer_matches_lesson(deb):
    from kagglenlp.patents.models.backbone import load_tokenizer

    tok = load_tokenizer(str(deb))
    assert type(tok).__name__.startswith("DebertaV2Tokenizer")
    assert tok.tokenize("A platypus is an ornithorhynchus anatinus.") == [
        "▁A",
        "▁platypus",
        "▁is",
        "▁an",
        "▁or",
        "ni",
        "tho",
        "rhynch",
        "us",
        "▁an",
        "at",
        "inus",
        ".",
    ]
    assert model_sep(tok) == "[SEP]"


@pytest.mark.e2e  # builds deberta-v3-small (140M parameters) and trains a step with the Trainer
def test_one_training_step_on_random_deberta(deb, tmp_path):
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from kagglenlp.patents.models.backbone import load_tokenizer

    tok = load_tokenizer(str(deb))
    cfg = AutoConfig.from_pretrained(deb, num_labels=1)
    assert (cfg.model_type, cfg.num_hidden_layers, cfg.hidden_size) == ("deberta-v2", 6, 768)
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(cfg)
    df = pd.DataFrame(
        {
            "anchor": ["abatement", "abatement", "acan", "acan"],
            "target": ["act of abating", "forest region", "cone", "rocket"],
            "context": ["A47", "A47", "F16", "F16"],
            "score": [0.75, 0.0, 0.5, 0.0],
        }
    )
    ds = tokenize(tok, make_inputs(df, "cpc", None, model_sep(tok)), df.score, df.index.astype(str))
    assert ds[0]["input_ids"][0] == tok.cls_token_id and tok.sep_token_id in ds[0]["input_ids"][1:-1]
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    cfg = PatentsConfig(data=".", bs=4, max_steps=1, lr=1e-4, warmup=0)  # no warmup: step 1 must move weights
    trainer = make_trainer(model, tok, training_arguments(cfg, tmp_path), ds, ds.select([0, 1]))
    trainer.train()
    oof, tpred, log = (
        predict_ds(trainer, ds.select([0, 1])),
        predict_ds(trainer, ds.select([2, 3])),
        trainer.state.log_history,
    )
    assert trainer.state.global_step == 1 and np.isfinite(log[-1]["train_loss"])
    assert oof.shape == (2,) and tpred.shape == (2,) and np.isfinite(oof).all()
    changed = [n for n, p in model.named_parameters() if not torch.equal(before[n], p.detach().cpu())]
    assert any("classifier" in n for n in changed) and any("encoder.layer.0" in n for n in changed)
