"""Invariants of the patents helpers: input strings, folds, metric, clipping, data and submission checks."""

import json

import numpy as np
import pandas as pd
import pytest
from scipy.stats import pearsonr

from kagglenlp.errors import UserError
from kagglenlp.patents import data as D
from kagglenlp.patents.data import demo_frames, write_demo
from kagglenlp.patents.folds import add_folds, group_folds, stratified_group_folds, time_folds, train_mask
from kagglenlp.patents.inputs import (
    SECTION_TITLES,
    context_titles,
    load_titles,
    make_inputs,
    seed_input,
    sibling_targets,
)
from kagglenlp.patents.metric import clip01, compute_metrics, pearson
from kagglenlp.submission import check_submission, write_submission


@pytest.fixture
def trn():
    return demo_frames()[0]


# ---- input text
def test_seed_input_exact():
    df = pd.DataFrame({"anchor": ["abatement"], "target": ["abatement of pollution"], "context": ["A47"]})
    assert make_inputs(df, "seed") == ["TEXT1: A47; TEXT2: abatement of pollution; ANC1: abatement"]
    assert seed_input("a", "t", "c") == "TEXT1: c; TEXT2: t; ANC1: a"


def test_cpc_uses_titles_and_sep():
    df = pd.DataFrame({"anchor": ["a"], "target": ["t"], "context": ["H01"]})
    assert make_inputs(df, "cpc", None, "[SEP]") == ["a[SEP]t[SEP]ELECTRICITY"]
    assert make_inputs(df, "cpc", {"H01": "ELECTRICITY. BASIC ELECTRIC ELEMENTS"}, " | ") == [
        "a | t | ELECTRICITY. BASIC ELECTRIC ELEMENTS"
    ]


def test_pair_is_the_lesson_content_without_labels_and_needs_no_titles():
    df = pd.DataFrame({"anchor": ["abatement"], "target": ["abatement of pollution"], "context": ["Z99"]})
    assert make_inputs(df, "pair", None, "[SEP]") == ["abatement[SEP]abatement of pollution[SEP]Z99"]
    assert make_inputs(df, "pair") == ["abatement; abatement of pollution; Z99"]  # no separator token: "; "


def test_section_titles_cover_all_sections():
    assert sorted(SECTION_TITLES) == list("ABCDEFGHY")
    assert context_titles(["A47", "Y02"]).tolist() == [SECTION_TITLES["A"], SECTION_TITLES["Y"]]


def test_missing_title_is_an_error():
    with pytest.raises(UserError, match=r"missing from the --titles file.*'G06'"):
        context_titles(["H01", "G06"], {"H01": "x"})


def test_siblings_exclude_own_target_and_are_deterministic():
    df = pd.DataFrame(
        {"anchor": ["a"] * 4 + ["b"], "context": ["X1"] * 3 + ["X2", "X1"], "target": ["t3", "t1", "t2", "t9", "t5"]}
    )
    sibs = sibling_targets(df)
    assert sibs == [["t1", "t2"], ["t2", "t3"], ["t1", "t3"], [], []]
    for s, own in zip(sibs, df.target):
        assert own not in s
    assert sibling_targets(df.iloc[::-1].reset_index(drop=True))[::-1] == sibs  # order of rows does not matter
    assert sibling_targets(df, cap=1)[0] == ["t1"]
    out = make_inputs(df, "cpc-siblings", {"X1": "T1", "X2": "T2"}, "[SEP]")
    assert out[0] == "a[SEP]t3[SEP]T1[SEP]t1; t2"


def test_load_titles(tmp_path):
    p = tmp_path / "t.json"
    p.write_text(json.dumps({"A01": "AGRI"}))
    assert load_titles(p) == {"A01": "AGRI"}
    p.write_text("[1, 2]")
    with pytest.raises(UserError, match="JSON object"):
        load_titles(p)
    with pytest.raises(UserError, match="not found"):
        load_titles(tmp_path / "nope.json")


# ---- folds
@pytest.mark.parametrize("split", ["group", "stratified-group"])
def test_no_anchor_in_two_folds(trn, split):
    df = add_folds(trn, split, 5, seed=1)
    assert (df.groupby("anchor")["fold"].nunique() == 1).all()
    assert sorted(df.fold.unique()) == [0, 1, 2, 3, 4]
    assert (add_folds(trn, split, 5, seed=1).fold == df.fold).all()  # deterministic


def test_stratified_folds_balanced_on_score(data_dir):
    df = pd.read_csv(data_dir / "uspppm" / "train.csv")
    strat = stratified_group_folds(df, 5, seed=0)
    dist = pd.crosstab(strat.fold, strat.score, normalize="index")
    overall = df.score.value_counts(normalize=True)
    assert (dist - overall).abs().max().max() < 0.02
    grp = group_folds(df, 5, seed=0)
    assert (
        pd.crosstab(grp.fold, grp.score, normalize="index").sub(overall).abs().max().max()
        > (dist - overall).abs().max().max()
    )


def test_more_folds_than_anchors_is_an_error(trn):
    small = trn[trn.anchor.isin(trn.anchor.unique()[:3])]
    with pytest.raises(UserError, match="more than the 3 distinct anchors"):
        add_folds(small, "group", 5)


def test_time_split_never_trains_on_future():
    rng = np.random.default_rng(0)
    df = pd.DataFrame(
        {"date": pd.to_datetime("2021-01-01") + pd.to_timedelta(rng.integers(0, 60, 400), "D"), "x": range(400)}
    )
    for gap in (0, 3):
        f = time_folds(df, 4, gap=gap)
        assert (f.fold == -1).any() and sorted(f.fold.unique()) == [-1, 0, 1, 2, 3]
        for k in range(4):
            m = train_mask(f, k, "time", gap=gap)
            val_dates = f.date[f.fold == k]
            assert m.any() and not (m & (f.fold == k).values).any()
            assert f.date[m].max() < val_dates.min()
            n_between = f.date[(f.date > f.date[m].max()) & (f.date < val_dates.min())].nunique()
            assert n_between == gap
        # every date lies in exactly one fold: a date never straddles train and valid
        assert (f.groupby("date").fold.nunique() == 1).all()
    with pytest.raises(UserError, match="needs a 'date' column"):
        time_folds(df.drop(columns="date"), 3)


# ---- metric and clipping
def test_pearson_against_a_hand_computed_value_and_scipy():
    # deviations (-1.5, -0.5, 0.5, 1.5) and (-1.5, 0.5, -0.5, 1.5): covariance sum 4, squared sums 5 and 5 -> 0.8
    assert pearson([1, 2, 3, 4], [1, 3, 2, 4]) == pytest.approx(0.8)
    rng = np.random.default_rng(0)
    p, t = rng.normal(size=50), rng.normal(size=50)
    want = pearsonr(p, t).statistic
    assert pearson(p, t) == pytest.approx(want)
    assert compute_metrics((p.reshape(-1, 1), t))["pearson"] == pytest.approx(want)
    assert compute_metrics((p, t))["pearson"] == pytest.approx(want)
    assert np.isnan(pearson([1, 1, 1], [0, 1, 2])) and np.isnan(pearson([1], [2]))  # undefined: NaN, never a number


def test_clip01_bounds():
    out = clip01([-0.5, 0, 0.3, 1, 1.7])
    assert out.tolist() == [0, 0, 0.3, 1, 1]


# ---- data validation
def _write(d, trn, tst, sample):
    d.mkdir(exist_ok=True)
    trn.to_csv(d / "train.csv", index=False)
    tst.to_csv(d / "test.csv", index=False)
    sample.to_csv(d / "sample_submission.csv", index=False)
    return d


@pytest.mark.parametrize(
    "mutate,msg",
    [
        (lambda t, s, m: (t.drop(columns="score"), s, m), r"train.csv lacks column\(s\) \['score'\]"),
        (
            lambda t, s, m: (t.assign(score=t.score.astype(object).where(t.index != 3, "abc")), s, m),
            "non-numeric score",
        ),
        (lambda t, s, m: (t.assign(score=t.score.where(t.index != 3, np.nan)), s, m), "missing or non-numeric score"),
        (lambda t, s, m: (t.assign(score=t.score.where(t.index != 3, 1.5)), s, m), r"outside \[0, 1\]"),
        (lambda t, s, m: (pd.concat([t, t.iloc[:1]]), s, m), "train.csv has 1 duplicate id"),
        (lambda t, s, m: (t, s.iloc[:0], m.iloc[:0]), "test.csv has no rows"),
        (
            lambda t, s, m: (t, s, m.assign(id=m.id.where(m.index != 0, "zzz"))),
            "sample_submission.csv ids differ from test.csv",
        ),
        (lambda t, s, m: (t, pd.concat([s, s.iloc[:1]]), m), "test.csv has 1 duplicate id"),
    ],
)
def test_bad_competition_files(tmp_path, mutate, msg):
    d = _write(tmp_path / "d", *mutate(*demo_frames()))
    with pytest.raises(UserError, match=msg):
        D.load_competition(d)


def test_missing_file(tmp_path):
    d = _write(tmp_path / "d", *demo_frames())
    (d / "sample_submission.csv").unlink()
    with pytest.raises(UserError, match="file not found: .*sample_submission.csv"):
        D.load_competition(d)


def test_max_rows_keeps_whole_anchors(trn):
    sub = D.subsample_anchors(trn, 100, seed=0)
    assert 100 <= len(sub) < 100 + trn.groupby("anchor").size().max()
    sizes = sub.groupby("anchor").size()
    assert sizes.equals(trn.groupby("anchor").size()[sizes.index])


# ---- submission checks
@pytest.fixture
def sample():
    return pd.DataFrame({"id": ["a", "b", "c"], "score": [0, 0, 0]})


@pytest.mark.parametrize(
    "sub,msg",
    [
        (pd.DataFrame({"id": ["a", "b"], "score": [0.1, 0.2]}), "2 rows, sample_submission has 3"),
        (pd.DataFrame({"id": ["a", "c", "b"], "score": [0.1, 0.2, 0.3]}), "another order"),
        (pd.DataFrame({"id": ["a", "b", "x"], "score": [0.1, 0.2, 0.3]}), "1 sample ids are missing"),
        (pd.DataFrame({"id": ["a", "a", "c"], "score": [0.1, 0.2, 0.3]}), "duplicate id"),
        (pd.DataFrame({"id": ["a", "b", "c"], "score": [0.1, np.nan, 0.3]}), "missing or non-numeric"),
        (pd.DataFrame({"id": ["a", "b", "c"], "score": [0.1, 1.2, 0.3]}), r"outside \[0.0, 1.0\]"),
        (pd.DataFrame({"id": ["a", "b", "c"], "pred": [0.1, 0.2, 0.3]}), "columns"),
    ],
)
def test_submission_checks_reject(sample, sub, msg):
    with pytest.raises(UserError, match=msg):
        check_submission(sub, sample)


def test_write_submission_refuses_overwrite(tmp_path, sample):
    sub = sample.assign(score=[0.1, 0.5, 1.0])
    p = write_submission(sub, tmp_path / "s.csv", sample)
    assert pd.read_csv(p).equals(sub)
    with pytest.raises(UserError, match="exists"):
        write_submission(sub.assign(score=0.0), p, sample)
    assert pd.read_csv(p).equals(sub)  # untouched


def test_demo_data_schema_and_idempotent(tmp_path):
    d = write_demo(tmp_path / "demo")
    trn, tst, sample = D.load_competition(d)
    assert 300 <= len(trn) <= 600 and trn.context.nunique() >= 5 and set(trn.score) == {0, 0.25, 0.5, 0.75, 1}
    assert not set(trn.anchor) & set(tst.anchor)
    write_demo(d)  # same content: fine
    (d / "train.csv").write_text("id,anchor,target,context,score\n")
    with pytest.raises(UserError, match="differs from the demo"):
        write_demo(d)


# ---- speed options
def test_compile_option_reaches_trainer_and_keeps_the_experiment(tmp_path):
    from kagglenlp.patents.config import IGNORED_ON_RESUME, PatentsConfig, exp_name, settings
    from kagglenlp.patents.trainer import training_arguments

    off, on = PatentsConfig(data="."), PatentsConfig(data=".", compile=True)
    assert training_arguments(on, tmp_path).torch_compile and not training_arguments(off, tmp_path).torch_compile
    assert exp_name(on) == exp_name(off)  # a speed option: same experiment, and a resume may toggle it
    changed = {k for k in settings(on) if settings(on)[k] != settings(off)[k]}
    assert changed == {"compile"} and changed <= set(IGNORED_ON_RESUME)
