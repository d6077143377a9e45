"""The competition toolbox (`kagglenlp.patents.tricks`) on toy models: tiny linear models and a tiny random BERT."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn
from transformers import BertConfig, BertModel, Trainer, TrainerCallback, TrainingArguments

from kagglenlp.errors import UserError
from kagglenlp.patents import blend, fold, inputs
from kagglenlp.patents.inputs import make_inputs
from kagglenlp.patents.metric import pearson
from kagglenlp.patents.models import heads
from kagglenlp.patents.models.cross import cross_class as _cross_class
from kagglenlp.patents.tricks import adversarial, best, ema, memory, siblings

# ---------------------------------------------------------------- toy models and data


class Regressor(nn.Module):
    "`pred = x @ w` (no bias) with an MSE loss: the smallest model a Trainer can train."

    def __init__(self, w):
        super().__init__()
        self.lin = nn.Linear(len(w), 1, bias=False)
        with torch.no_grad():
            self.lin.weight.copy_(torch.tensor([w], dtype=torch.float32))

    def forward(self, x, labels=None):
        logits = self.lin(x).squeeze(-1)
        loss = nn.functional.mse_loss(logits, labels) if labels is not None else None
        return {"loss": loss, "logits": logits}


def rows(x, y):
    "A list-of-dicts dataset for the Trainer."
    return [
        {"x": torch.tensor(a, dtype=torch.float32), "labels": torch.tensor(b, dtype=torch.float32)}
        for a, b in zip(x, y)
    ]


def toy_args(tmp_path, **kw):
    "CPU `TrainingArguments` for toy runs: plain SGD at a constant rate, no warmup, nothing reported."
    base = dict(
        output_dir=str(tmp_path / "out"),
        use_cpu=True,
        optim="sgd",
        learning_rate=0.05,
        lr_scheduler_type="constant",
        per_device_train_batch_size=8,
        per_device_eval_batch_size=64,
        report_to="none",
        disable_tqdm=True,
        logging_steps=1,
        seed=0,
        dataloader_pin_memory=False,
        weight_decay=0.0,
        max_grad_norm=0.0,
    )
    return TrainingArguments(**{**base, **kw})


def tiny_bert():
    "A randomly initialised 2-layer BERT encoder (hidden 16) inside the kit's cross-encoder head."
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=50,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    return _cross_class()(BertModel(cfg), pool="cls", loss="mse", head_dropout=0.0)


def bert_batch(n=4, length=6, seed=0):
    "A batch of random token ids with labels for `tiny_bert`."
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(1, 50, (n, length), generator=g)
    return {"input_ids": ids, "attention_mask": torch.ones_like(ids), "labels": torch.rand(n, generator=g)}


def grads(model):
    "A name -> gradient copy of `model`'s parameters."
    return {n: p.grad.detach().clone() for n, p in model.named_parameters() if p.grad is not None}


def weights(model):
    "A name -> value copy of `model`'s parameters."
    return {n: p.detach().clone() for n, p in model.named_parameters()}


def backward(model, batch):
    "Fresh gradients of `model`'s loss on `batch`."
    model.zero_grad(set_to_none=True)
    model(**batch).loss.backward()
    return grads(model)


# ---------------------------------------------------------------- best checkpoint


def test_steps_per_epoch_and_eval_steps():
    assert best.steps_per_epoch(100, 8) == 13
    assert best.steps_per_epoch(100, 8, grad_accum=2) == 7
    assert best.steps_per_epoch(100, 8, grad_accum=2, world=2) == 4
    assert best.eval_steps_for(4, 13) == 3
    assert best.eval_steps_for(20, 13) == 1


def test_best_checkpoint_args_are_valid_training_arguments(tmp_path):
    kw = best.best_checkpoint_args(4, 40)
    args = TrainingArguments(output_dir=str(tmp_path), use_cpu=True, **kw)
    assert args.eval_strategy == "steps" and args.eval_steps == 10 and args.save_strategy == "best"
    assert args.load_best_model_at_end and args.metric_for_best_model == "pearson" and args.greater_is_better
    assert args.save_total_limit == 1 and args.save_only_model


def test_best_eval_on_a_scripted_log():
    log = [
        {"loss": 0.3, "step": 1},
        {"eval_pearson": float("nan"), "step": 2},  # constant predictions early on: never the best
        {"eval_pearson": 0.61, "step": 4},
        {"loss": 0.2, "step": 5},
        {"eval_pearson": 0.74, "step": 6},
        {"eval_pearson": 0.74, "step": 8},  # a tie keeps the earlier step, as the Trainer does
        {"eval_pearson": 0.70, "step": 10},
    ]
    assert best.best_eval(log) == (6, 0.74)
    assert best.best_eval([{"loss": 1.0, "step": 1}]) == (None, None)
    assert best.compute_metrics((np.array([[0.1], [0.5], [0.9]]), np.array([0.0, 0.6, 1.0])))[
        "pearson"
    ] == pytest.approx(np.corrcoef([0.1, 0.5, 0.9], [0.0, 0.6, 1.0])[0, 1])


class Recorder(TrainerCallback):
    "Records the model's weights after each optimizer step (`on_step_end`) and at each evaluation."

    def __init__(self):
        self.at_step, self.at_eval, self.at_begin = {}, {}, {}

    def on_step_end(self, args, state, control, model=None, **kw):
        self.at_step[state.global_step] = weights(model)

    def on_step_begin(self, args, state, control, model=None, **kw):
        self.at_begin[state.global_step] = weights(model)

    def on_evaluate(self, args, state, control, model=None, **kw):
        self.at_eval[state.global_step] = weights(model)


def rotating_task(n=64, seed=0):
    """Eval targets are `x1`; training targets `x1 + x2` rotate `w` from (1, -1) through (1, 0) towards (1, 1), so the
    eval Pearson rises to its peak mid-training and falls again: the best step is not the last."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 2))
    return rows(x, x[:, 0] + x[:, 1]), rows(x, x[:, 0])


def rotating_trainer(tmp_path, *callbacks):
    "A toy Trainer on `rotating_task`: 6 epochs, 2 evaluations per epoch, the best Pearson step kept; not trained yet."
    trn, val = rotating_task()
    args = toy_args(tmp_path, num_train_epochs=6, **best.best_checkpoint_args(2, best.steps_per_epoch(len(trn), 8)))
    return Trainer(
        model=Regressor([1.0, -1.0]),
        args=args,
        train_dataset=trn,
        eval_dataset=val,
        compute_metrics=best.compute_metrics,
        callbacks=list(callbacks),
    )


def test_trainer_keeps_the_best_pearson_step_not_the_last(tmp_path):
    rec = Recorder()
    tr = rotating_trainer(tmp_path, rec)
    tr.train()
    step, score = best.best_eval(tr.state.log_history)
    evals = [r for r in tr.state.log_history if "eval_pearson" in r]
    assert len(evals) == 6 * 2 and step != evals[-1]["step"] and score > evals[-1]["eval_pearson"] + 0.01
    assert (step, score) == (tr.state.best_global_step, tr.state.best_metric)  # what the Trainer kept
    assert score == max(r["eval_pearson"] for r in evals)
    for n, v in weights(tr.model).items():  # the weights loaded back at the end are the best step's
        torch.testing.assert_close(v, rec.at_step[step][n], rtol=0, atol=0)


# ---------------------------------------------------------------- adversarial training


def test_fgm_moves_embeddings_along_the_gradient_and_restores_them():
    model, batch = tiny_bert(), bert_batch()
    backward(model, batch)
    w = model.backbone.get_input_embeddings().weight
    w0, g = w.detach().clone(), w.grad.detach().clone()
    with adversarial.fgm_perturb(model, eps=0.5):
        torch.testing.assert_close(w.detach(), w0 + 0.5 * g / g.norm())
    assert torch.equal(w.detach(), w0)


def test_awp_perturbs_weights_within_bounds_and_restores_them_exactly():
    model, batch = tiny_bert(), bert_batch()
    backward(model, batch)
    before = weights(model)
    with adversarial.awp_perturb(model, adv_lr=1.0, adv_eps=0.01):
        during = weights(model)
    after = weights(model)
    moved = [n for n in before if not torch.equal(before[n], during[n])]
    assert moved and all("weight" in n for n in moved)  # biases are never perturbed
    assert all(not torch.equal(before[n], during[n]) for n in before if "encoder" in n and n.endswith("dense.weight"))
    for n in moved:
        assert ((during[n] - before[n]).abs() <= 0.01 * before[n].abs() + 1e-7).all()
    assert all(torch.equal(before[n], after[n]) for n in before)


class AdvTrainer(adversarial.AdversarialMixin, Trainer):
    "The mixin on a plain Trainer, as the recipe puts it on its head trainer."


def adv_trainer(tmp_path, model, **kw):
    "An `AdvTrainer` ready for direct `training_step` calls."
    tr = AdvTrainer(model=model, args=toy_args(tmp_path, max_steps=1), **kw)
    tr.current_gradient_accumulation_steps = 1
    return tr


def test_fgm_step_gradient_is_plain_plus_gradient_at_perturbed_embeddings(tmp_path):
    model, batch = tiny_bert(), bert_batch()
    plain = backward(model, batch)
    w = model.backbone.get_input_embeddings().weight
    with torch.no_grad():
        w.add_(plain[w_name := "backbone.embeddings.word_embeddings.weight"] * (0.3 / plain[w_name].norm()))
    adv = backward(model, batch)
    with torch.no_grad():
        w.sub_(plain[w_name] * (0.3 / plain[w_name].norm()))
    before = weights(model)
    model.zero_grad(set_to_none=True)
    tr = adv_trainer(tmp_path, model, adv="fgm", adv_eps=0.3)
    loss = tr.training_step(model, dict(batch))
    got = grads(model)
    assert loss.item() == pytest.approx(model(**batch).loss.item(), rel=1e-5)
    for n in plain:
        torch.testing.assert_close(got[n], plain[n] + adv[n], rtol=1e-4, atol=1e-6)
    assert all(torch.equal(before[n], v) for n, v in weights(model).items())


def test_awp_step_gradient_is_the_gradient_at_the_perturbed_weights(tmp_path):
    model, batch = tiny_bert(), bert_batch()
    plain = backward(model, batch)
    before = weights(model)
    with adversarial.awp_perturb(model, adv_lr=0.5, adv_eps=0.05):
        adv = backward(model, batch)
    model.zero_grad(set_to_none=True)
    tr = adv_trainer(tmp_path, model, adv="awp", adv_lr=0.5, adv_eps=0.05)
    tr.training_step(model, dict(batch))
    got = grads(model)
    assert any(not torch.allclose(adv[n], plain[n]) for n in plain)
    for n in plain:
        torch.testing.assert_close(got[n], adv[n], rtol=1e-4, atol=1e-6)
    assert all(torch.equal(before[n], v) for n, v in weights(model).items())


def test_awp_keeps_gradients_accumulated_by_earlier_micro_steps(tmp_path):
    model, b1, b2 = tiny_bert(), bert_batch(seed=1), bert_batch(seed=2)
    g1 = backward(model, b1)
    model.zero_grad(set_to_none=True)
    backward(model, b2)
    with adversarial.awp_perturb(model, adv_lr=0.5, adv_eps=0.05):
        adv2 = backward(model, b2)
    model.zero_grad(set_to_none=True)
    model(**b1).loss.backward()  # micro-step 1 of an accumulation, then micro-step 2 adversarial
    tr = adv_trainer(tmp_path, model, adv="awp", adv_lr=0.5, adv_eps=0.05)
    tr.training_step(model, dict(b2))
    for n, v in grads(model).items():
        torch.testing.assert_close(v, g1[n] + adv2[n], rtol=1e-4, atol=1e-6)


def test_adversarial_start_epoch_is_honoured(tmp_path):
    model, batch = tiny_bert(), bert_batch()
    plain = backward(model, batch)
    model.zero_grad(set_to_none=True)
    tr = adv_trainer(tmp_path, model, adv="fgm", adv_eps=0.3, adv_start=1)
    tr.state.epoch = 0.9
    assert not tr.adv_active()
    tr.training_step(model, dict(batch))
    assert all(torch.allclose(v, plain[n], atol=1e-7) for n, v in grads(model).items())
    tr.state.epoch = 1.0
    assert tr.adv_active()
    with pytest.raises(ValueError):
        AdvTrainer(model=model, args=toy_args(tmp_path, max_steps=1), adv="sam")


@pytest.mark.e2e  # subprocesses, real waits or training
def test_adversarial_trainer_trains_end_to_end(tmp_path):
    data = [{k: v[i] for k, v in bert_batch(16).items()} for i in range(16)]
    for adv in adversarial.ADV:
        model = tiny_bert()
        w0 = weights(model)
        tr = AdvTrainer(model=model, args=toy_args(tmp_path, max_steps=3), train_dataset=data, adv=adv)
        tr.train()
        assert all(math.isfinite(r["loss"]) for r in tr.state.log_history if "loss" in r)
        assert any(not torch.equal(w0[n], v) for n, v in weights(model).items())


# ---------------------------------------------------------------- EMA


def test_ema_equals_the_closed_form_average_and_is_what_evaluation_sees(tmp_path):
    trn, val = rotating_task()
    decay = 0.8
    args = toy_args(tmp_path, max_steps=10, eval_strategy="steps", eval_steps=4, save_strategy="no")
    at_end, at_begin = Recorder(), Recorder()
    cb = ema.EmaCallback(decay)
    model = Regressor([1.0, -1.0])
    w0 = weights(model)["lin.weight"]
    tr = Trainer(
        model=model,
        args=args,
        train_dataset=trn,
        eval_dataset=val,
        compute_metrics=best.compute_metrics,
        callbacks=[at_end, cb, at_begin],
    )  # at_end sees training weights, at_begin what training resumes on
    tr.train()
    traj = [w0] + [at_end.at_step[t]["lin.weight"] for t in range(1, 11)]
    e = [traj[0]]
    for w in traj[1:]:
        e.append(decay * e[-1] + (1 - decay) * w)
    for t in (4, 8, 10):  # evaluations ran on the EMA weights
        torch.testing.assert_close(at_begin.at_eval[t]["lin.weight"], e[t])
    for t in (4, 8):  # and training resumed from the training weights
        torch.testing.assert_close(at_begin.at_begin[t]["lin.weight"], traj[t], rtol=0, atol=0)
    torch.testing.assert_close(weights(tr.model)["lin.weight"], e[10])  # the model ends with the EMA weights
    assert not torch.allclose(e[10], traj[10])
    with pytest.raises(ValueError):
        ema.EmaCallback(1.0)


def test_ema_with_best_checkpoint_keeps_the_best_ema_weights(tmp_path):
    rec = Recorder()
    tr = rotating_trainer(tmp_path, ema.EmaCallback(0.5), rec)
    tr.train()
    step = tr.state.best_global_step
    torch.testing.assert_close(weights(tr.model)["lin.weight"], rec.at_eval[step]["lin.weight"], rtol=0, atol=0)


# ---------------------------------------------------------------- head layers and loss


def test_multi_sample_dropout_is_the_mean_over_masks_and_the_linear_layer_in_eval():
    torch.manual_seed(0)
    msd, x = heads.MultiSampleDropout(8, n=4, p=0.5), torch.randn(3, 8)
    torch.testing.assert_close(msd.eval()(x), msd.linear(x))
    msd.train()
    torch.manual_seed(1)
    got = msd(x)
    torch.manual_seed(1)
    want = torch.stack([msd.linear(nn.functional.dropout(x, 0.5)) for _ in range(4)]).mean(0)
    torch.testing.assert_close(got, want)
    assert not torch.allclose(got, msd.linear(x))


def test_lstm_attention_pool_ignores_padding():
    torch.manual_seed(0)
    pool = heads.LstmAttentionPool(8, hidden=6).eval()
    a, b = torch.randn(1, 5, 8), torch.randn(1, 3, 8)
    alone = [pool(a, torch.ones(1, 5)), pool(b, torch.ones(1, 3))]
    states = torch.randn(2, 9, 8) * 100  # garbage in the padded positions
    states[0, :5], states[1, :3] = a[0], b[0]
    mask = torch.zeros(2, 9)
    mask[0, :5], mask[1, :3] = 1, 1
    out = pool(states, mask)
    assert out.shape == (2, pool.out_dim)
    torch.testing.assert_close(out[0], alone[0][0])
    torch.testing.assert_close(out[1], alone[1][0])


def test_pearson_loss_matches_numpy_and_has_sane_gradients():
    rng = np.random.default_rng(0)
    p, t = rng.normal(size=16), rng.normal(size=16)
    assert heads.pearson_loss(torch.tensor(p), torch.tensor(t)).item() == pytest.approx(
        1 - np.corrcoef(p, t)[0, 1], abs=1e-6
    )
    x = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda q: heads.pearson_loss(q, torch.tensor(t), eps=0), (x,))
    heads.pearson_loss(x, torch.tensor(t)).backward()
    assert x.grad.sum().item() == pytest.approx(0, abs=1e-9)  # shift invariant
    assert (x.grad * (x - x.mean())).sum().item() == pytest.approx(0, abs=1e-9)  # scale invariant
    assert heads.pearson_loss(torch.tensor(t), torch.tensor(t)).item() == pytest.approx(0, abs=1e-6)


def test_freeze_embeddings_keeps_them_fixed_through_training(tmp_path):
    model = tiny_bert()
    frozen = heads.freeze_embeddings(model)
    assert frozen and all(n.startswith("embeddings.") for n in frozen)
    assert all(not p.requires_grad for p in model.backbone.embeddings.parameters())
    assert all(p.requires_grad for p in model.backbone.encoder.parameters())
    w0 = weights(model)
    data = [{k: v[i] for k, v in bert_batch(16).items()} for i in range(16)]
    Trainer(
        model=model, args=toy_args(tmp_path, max_steps=2, optim="adamw_torch", weight_decay=0.1), train_dataset=data
    ).train()
    w1 = weights(model)
    assert all(torch.equal(w0[n], w1[n]) for n in w0 if n.startswith("backbone.embeddings."))
    assert any(not torch.equal(w0[n], w1[n]) for n in w0 if n.startswith("backbone.encoder."))


# ---------------------------------------------------------------- sibling targets


@pytest.fixture
def sib_df():
    return pd.DataFrame(
        {
            "anchor": ["abatement"] * 4 + ["wheel"] * 2,
            "target": ["stop", "reduce noise", "abate", "eliminating", "tyre", "rim"],
            "context": ["A47", "A47", "A47", "A47", "B60", "B60"],
        }
    )


@pytest.mark.parametrize("sep,cap", [("; ", None), ("[SEP]", None), ("[SEP]", 2)])
def test_sibling_parts_rebuild_the_cpc_siblings_text(sib_df, sep, cap):
    parts = inputs.sibling_parts(sib_df, sep=sep, sib_cap=cap)
    title = inputs.context_titles(sib_df["context"][:1])[0]
    sibs = ["abate", "eliminating", "reduce noise"][:cap]  # the anchor's other targets, sorted
    assert parts[0] == (f"abatement{sep}stop{sep}{title}", sibs)
    assert inputs.join_siblings(parts, sep)[0] == f"abatement{sep}stop{sep}{title}{sep}{'; '.join(sibs)}"
    assert inputs.join_siblings(parts, sep) == make_inputs(sib_df, "cpc-siblings", sep=sep, sib_cap=cap)


def test_shuffle_siblings_reorders_each_rows_own_siblings(sib_df):
    parts = inputs.sibling_parts(sib_df)
    a = inputs.shuffle_siblings(parts, np.random.default_rng(3))
    assert a == inputs.shuffle_siblings(parts, np.random.default_rng(3))
    orders = {tuple(inputs.shuffle_siblings(parts, np.random.default_rng(s))) for s in range(10)}
    assert len(orders) > 1
    for text, (base, sibs) in zip(a, parts):
        assert text.startswith(base + "; ") and sorted(text[len(base) + 2 :].split("; ")) == sorted(sibs)


def test_tta_mean_starts_from_the_sorted_order():
    calls = []

    def predict(rng):
        calls.append(rng)
        return np.zeros(3) if rng is None else np.full(3, rng.random())

    rng = np.random.default_rng(0)
    assert np.array_equal(siblings.tta_mean(predict, 1, rng), np.zeros(3)) and calls == [None]
    calls.clear()
    got = siblings.tta_mean(predict, 3, np.random.default_rng(0))
    r = np.random.default_rng(0)
    assert np.allclose(got, (0 + r.random() + r.random()) / 3) and calls[0] is None and len(calls) == 3


@pytest.fixture(scope="module")
def minilm_tok():
    from transformers import AutoTokenizer

    from kagglenlp.patents.models.backbone import resolve_model

    return AutoTokenizer.from_pretrained(resolve_model("minilm"))


def test_count_truncated(minilm_tok, sib_df):
    texts = make_inputs(sib_df, "cpc-siblings", sep=minilm_tok.sep_token)
    lens = [len(minilm_tok(t)["input_ids"]) for t in texts]
    cut = min(lens)
    assert 0 < siblings.count_truncated(minilm_tok, texts, cut) == sum(n > cut for n in lens) < len(texts)
    assert siblings.count_truncated(minilm_tok, texts, max(lens)) == 0


def test_sibling_shuffle_dataset_draws_a_new_order_each_epoch(minilm_tok, sib_df):
    from transformers import TrainerState

    parts = inputs.sibling_parts(sib_df, sep=minilm_tok.sep_token)
    ds = siblings.SiblingShuffleDataset(
        parts, minilm_tok, labels=np.arange(6) / 5, max_len=64, sep=minilm_tok.sep_token, seed=1
    )
    cb = siblings.SiblingShuffleCallback(ds)
    seen = []
    for e in range(4):
        cb.on_epoch_begin(None, TrainerState(epoch=float(e)), None)
        seen.append(list(ds.texts))
    assert ds.epoch == 3 and len({tuple(s) for s in seen}) > 1
    ds.set_epoch(0)
    assert ds.texts == seen[0]
    item = ds[0]
    assert item["input_ids"] == minilm_tok(ds.texts[0], truncation=True, max_length=64)["input_ids"]
    assert item["labels"] == 0.0


@pytest.mark.e2e  # subprocesses, real waits or training
def test_the_pieces_compose_in_one_trainer_run(tmp_path, minilm_tok, sib_df):
    "Sibling shuffling, AWP from epoch 1, EMA and the best checkpoint together on a tiny cross-encoder: it trains."
    from transformers import DataCollatorWithPadding

    sep = minilm_tok.sep_token
    parts = inputs.sibling_parts(pd.concat([sib_df] * 4, ignore_index=True), sep=sep)
    y = np.tile(np.linspace(0, 1, 6), 4)
    trn = siblings.SiblingShuffleDataset(parts, minilm_tok, labels=y, max_len=32, sep=sep)
    val = siblings.SiblingShuffleDataset(parts[:6], minilm_tok, labels=y[:6], max_len=32, sep=sep)
    torch.manual_seed(0)
    cfg = BertConfig(
        vocab_size=minilm_tok.vocab_size,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=64,
    )
    model = _cross_class()(BertModel(cfg), pool="cls", loss="mse", head_dropout=0.0)
    heads.freeze_embeddings(model)
    n = best.steps_per_epoch(len(trn), 8)
    args = toy_args(
        tmp_path,
        num_train_epochs=3,
        optim="adamw_torch",
        learning_rate=1e-3,
        **best.best_checkpoint_args(2, n),
        per_device_eval_batch_size=4,
    )
    cbs = [siblings.SiblingShuffleCallback(trn), ema.EmaCallback(0.9)]
    tr = AdvTrainer(
        model=model,
        args=args,
        train_dataset=trn,
        eval_dataset=val,
        data_collator=DataCollatorWithPadding(minilm_tok),
        compute_metrics=best.compute_metrics,
        callbacks=cbs,
        adv="awp",
        adv_start=1,
        adv_lr=0.1,
    )
    tr.train()
    assert trn.epoch == 2
    step, score = tr.state.best_global_step, tr.state.best_metric
    assert step is not None and (step, score) == best.best_eval(tr.state.log_history)


# ---------------------------------------------------------------- blending


def test_minmax_scale():
    p = np.array([2.0, 4.0, 3.0, 6.0])
    s = blend.minmax_scale(p)
    assert s.min() == 0 and s.max() == 1 and np.allclose(s, [0, 0.5, 0.25, 1])
    assert pearson(s, [1, 2, 3, 4]) == pytest.approx(pearson(p, [1, 2, 3, 4]))
    assert np.array_equal(blend.minmax_scale(np.full(3, 0.7)), np.zeros(3))


def test_blend_fixed():
    preds = np.array([[0.0, 10.0], [1.0, 30.0], [0.5, 20.0]])
    assert np.allclose(blend.blend_fixed(preds, [1, 3]), preds @ [0.25, 0.75])
    assert np.allclose(blend.blend_fixed(preds, [2, 2], scale="minmax"), [0, 1, 0.5])
    for bad in ([1.0], [1.0, -1.0], [0.0, 0.0]):
        with pytest.raises(UserError):
            blend.blend_fixed(preds, bad)
    with pytest.raises(UserError):
        blend.blend_fixed(preds, [1, 1], scale="rank")


def test_full_fit_steps_and_weight():
    assert fold.full_fit_steps([10, 13, None]) == 12
    assert fold.full_fit_steps([10, 14], scale=1.5) == 18
    with pytest.raises(UserError):
        fold.full_fit_steps([None])
    folds = np.array([[0.2, 0.4], [0.6, 0.8]])
    assert np.allclose(fold.with_full(folds, [1.0, 0.0], weight=2), [(0.6 + 2) / 4, 1.4 / 4])
    assert np.allclose(fold.with_full(folds, [1.0, 0.0], weight=0), folds.mean(1))
    with pytest.raises(UserError):
        fold.with_full(folds, [1.0, 0.0], weight=-1)


# ---------------------------------------------------------------- memory


def test_memory_estimate_parts_and_checkpointing():
    m = dict(n_params=435_000_000, layers=24, hidden=1024, heads=16, seq=300)
    full = memory.estimate_training_memory(batch=8, **m)
    ck = memory.estimate_training_memory(batch=8, grad_ckpt=True, **m)
    assert full["weights"] == pytest.approx(4 * 435e6 / memory.GIB) and full["adamw"] == 2 * full["weights"]
    assert full["activations"] == pytest.approx(24 * 8 * 300 * (34 * 1024 + 5 * 16 * 300) / memory.GIB)
    act = 34 * 1024 + 5 * 16 * 300
    assert ck["activations"] == pytest.approx((24 * 4 * 1024 + act) * 8 * 300 / memory.GIB)  # inputs + one layer
    assert ck["activations"] < full["activations"] / 8
    assert full["total"] == pytest.approx(sum(v for k, v in full.items() if k != "total")) and full["ema"] == 0
    with_ema = memory.estimate_training_memory(batch=8, ema=True, **m)
    assert with_ema["total"] - full["total"] == pytest.approx(2 * full["weights"])


def test_saved_activation_bytes_grow_with_layers_and_shrink_with_half_precision():
    def model_of(n_layers):
        torch.manual_seed(0)
        return BertModel(
            BertConfig(
                vocab_size=50,
                hidden_size=32,
                num_hidden_layers=n_layers,
                num_attention_heads=2,
                intermediate_size=64,
                max_position_embeddings=32,
            )
        )

    def make_batch(b):
        return {"input_ids": torch.ones(b, 16, dtype=torch.long)}

    one, two = (memory.saved_activation_bytes(model_of(n), make_batch, 16) for n in (1, 2))
    assert 0 < one < two
    half = memory.saved_activation_bytes(model_of(2), make_batch, 16, dtype=torch.bfloat16)
    assert half < two


def test_checkpointing_keeps_the_gradients():
    model, batch = tiny_bert(), bert_batch()
    model.train()
    plain = backward(model, batch)
    mk = lambda b: {k: v[:b] for k, v in bert_batch(2).items() if k != "labels"}  # noqa: E731
    before = memory.saved_activation_bytes(model.backbone, mk, 6)
    assert memory.enable_checkpointing(model)
    after = memory.saved_activation_bytes(model.backbone, mk, 6)
    assert after < before / 2
    for n, g in backward(model, batch).items():
        torch.testing.assert_close(g, plain[n])
