"""`--config FILE.toml` for every dataclass-args command: precedence, the name, errors, the shipped recipes."""

import json
from pathlib import Path

import pytest
from helpers import one_error_line

from kagglenlp.args import args_to_dataclass, config_to_dataclass, read_config, to_toml
from kagglenlp.cli import build_parser, main
from kagglenlp.errors import UserError
from kagglenlp.imdb.config import UlmfitConfig
from kagglenlp.patents.config import CONFIG_DIR, PatentsConfig, kernel_params, patents_config
from kagglenlp.patents.data import write_demo

ROOT = Path(__file__).resolve().parents[1]  # the checkout


def parse(argv, cls=PatentsConfig):
    "The dataclass that `kagglenlp ARGV` would run."
    return args_to_dataclass(build_parser().parse_args(argv), cls)


@pytest.fixture
def cfg_file(tmp_path):
    p = tmp_path / "my-exp.toml"
    p.write_text('model = "minilm"\nlr = 1e-3\nbs = 8\ndata = "somewhere"\narch = "cross"\n')
    return p


def test_file_sets_fields_and_name_defaults_to_stem(cfg_file):
    c = parse(["patents", "train", "--config", str(cfg_file)])
    assert (c.model, c.lr, c.bs, c.data, c.arch, c.name) == ("minilm", 1e-3, 8, "somewhere", "cross", "my-exp")
    assert c.folds == PatentsConfig(data="x").folds  # not in the file: the default


@pytest.mark.parametrize("before", [True, False])
def test_flags_win_over_the_file_wherever_they_stand(cfg_file, before):
    flags = ["--bs", "4", "--name", "other", "--arch", "bi"]
    argv = [*flags, "--config", str(cfg_file)] if before else ["--config", str(cfg_file), *flags]
    c = parse(["patents", "train", *argv])
    assert (c.bs, c.name, c.arch, c.lr, c.model) == (4, "other", "bi", 1e-3, "minilm")


def test_a_flag_equal_to_the_default_still_wins(cfg_file):
    assert parse(["patents", "train", "--bs", "128", "--config", str(cfg_file)]).bs == 128


def test_required_option_still_required_without_the_file(tmp_path, capsys):
    p = tmp_path / "c.toml"
    p.write_text("bs = 2\n")
    with pytest.raises(SystemExit) as e:
        build_parser().parse_args(["patents", "train", "--config", str(p)])
    assert e.value.code == 2 and "required: --data" in capsys.readouterr().err


@pytest.mark.parametrize(
    "text,message",
    [
        ('modle = "minilm"\n', "unknown setting 'modle'; did you mean 'model'?"),
        ("max-len = 64\n", "unknown setting 'max-len'; did you mean 'max_len'?"),
        ("config = 'x.toml'\n", "unknown setting 'config'"),
        ('bs = "8"\n', "bs = '8' should be an integer"),
        ("compile = 1\n", "compile = 1 should be true or false"),
        ('arch = "dual"\n', "arch = 'dual' is not one of bi, cross"),
        ("bs = \n", "is not valid TOML"),
    ],
)
def test_bad_files_are_one_error_line(tmp_path, capsys, text, message):
    p = tmp_path / "typo.toml"
    p.write_text(text)
    assert main(["patents", "train", "--config", str(p), "--data", "d"]) == 2
    assert message in one_error_line(capsys)


def test_int_for_float_and_lists(tmp_path):
    p = tmp_path / "imdb-small.toml"
    p.write_text('data = "d"\nlm_epochs = [1, 2]\nlm_lrs = [1, 0.5]\nbackwards = true\n')
    c = parse(["imdb", "train", "--config", str(p), "--bs", "4"], UlmfitConfig)
    assert (c.lm_epochs, c.lm_lrs, c.backwards, c.bs, c.name) == ([1, 2], [1.0, 0.5], True, 4, "imdb-small")
    assert all(isinstance(x, float) for x in c.lm_lrs)
    p.write_text('data = "d"\nlm_epochs = [1, "x"]\n')
    with pytest.raises(UserError, match="lm_epochs"):
        read_config(p, UlmfitConfig)


def test_to_toml_round_trips(tmp_path):
    vals = dict(model='a "b"', lr=1.5e-05, bs=8, compile=False, head_lr=None, name="t")
    p = tmp_path / "t.toml"
    p.write_text(to_toml(vals, "a comment\nsecond line"))
    assert read_config(p, PatentsConfig) == {k: v for k, v in vals.items() if v is not None}


@pytest.mark.parametrize("path", sorted(CONFIG_DIR.glob("*.toml")), ids=lambda p: p.name)
def test_shipped_configs_are_valid(path):
    c = patents_config(path, data="d")
    assert isinstance(c, PatentsConfig) and c.name == path.stem
    params = kernel_params(path)
    assert "data" not in params and set(params["settings"]).isdisjoint({"model", "folds", "seed", "split", "name"})


def test_shipped_recipes_are_the_documented_ones():
    names = {p.stem for p in CONFIG_DIR.glob("*.toml")}
    assert names == {"lesson", "cpu-default", "minilm-cross-gpu", "minilm-cross-fgm-cpu", "deberta-v3-large-t4x2"}
    lesson = patents_config(CONFIG_DIR / "lesson.toml", data="d")
    assert (lesson.model, lesson.arch, lesson.lr, lesson.bs, lesson.epochs, lesson.text) == (
        "microsoft/deberta-v3-small",
        "cross",
        8e-5,
        128,
        4,
        "seed",
    )
    gpu = patents_config(CONFIG_DIR / "minilm-cross-gpu.toml", data="d")
    assert (gpu.model, gpu.arch, gpu.text, gpu.folds, gpu.epochs, gpu.bs, gpu.max_rows) == (
        "minilm",
        "cross",
        "seed",
        3,
        2,
        64,
        None,
    )
    cpu = patents_config(CONFIG_DIR / "cpu-default.toml", data="d")
    assert (cpu.model, cpu.arch) == ("minilm", "bi")
    fgm = patents_config(CONFIG_DIR / "minilm-cross-fgm-cpu.toml", data="d")
    assert (fgm.arch, fgm.adv, fgm.adv_eps, fgm.text, fgm.folds, fgm.epochs, fgm.bs) == (
        "cross",
        "fgm",
        0.01,
        "seed",
        2,
        2,
        32,
    )
    large = patents_config(CONFIG_DIR / "deberta-v3-large-t4x2.toml", data="d")
    assert (large.text, large.sib_shuffle, large.grad_checkpointing, large.bs * large.grad_accum * 2) == (
        "cpc-siblings",
        True,
        True,
        64,
    )
    assert "ESTIMATE" in (CONFIG_DIR / "deberta-v3-large-t4x2.toml").read_text()


def test_config_to_dataclass_names_missing_fields(tmp_path):
    p = tmp_path / "c.toml"
    p.write_text("bs = 2\n")
    with pytest.raises(UserError, match="must set data"):
        config_to_dataclass(PatentsConfig, p)


@pytest.mark.e2e
def test_train_with_a_config_records_effective_settings_and_resumes(proj, capsys):
    d = write_demo(proj / "input" / "demo")
    p = proj / "tiny-cfg.toml"
    p.write_text(
        f'data = "{d}"\nmodel = "minilm"\nfolds = 2\nmax_rows = 100\nmax_steps = 1\nbs = 8\nlr = 1e-3\nseed = 0\n'
    )
    assert main(["patents", "train", "--config", str(p), "--lr", "5e-4"]) == 0
    rec = json.loads((proj / "outputs" / "tiny-cfg" / "experiment.json").read_text())
    assert rec["name"] == "tiny-cfg" and "config" not in rec["settings"]
    s = rec["settings"]
    assert (s["lr"], s["bs"], s["folds"], s["model"], s["max_steps"]) == (5e-4, 8, 2, "minilm", 1)
    capsys.readouterr()
    assert main(["patents", "train", "--config", str(p), "--lr", "5e-4"]) == 0  # same settings: resumes
    assert "resuming: all done" in capsys.readouterr().out
    assert main(["patents", "train", "--config", str(p)]) == 2  # lr 1e-3 from the file: another experiment
    assert "lr: 0.0005 -> 0.001" in one_error_line(capsys)
    assert main(["results"]) == 0  # the real results row, with the settings from experiment.json
    row = capsys.readouterr().out.splitlines()[1].split()
    assert row[:3] == ["tiny-cfg", "patents", "pearson"] and "bi" in row and "lr=0.0005" in row


def test_notebook_10_takes_a_config_file(tmp_path):
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / "10-patents-folds.ipynb", as_version=4)
    params, build = nb.cells[1].source, nb.cells[2].source
    ns = {}
    exec(params, ns)
    ns.update(config=str(CONFIG_DIR / "minilm-cross-gpu.toml"), data=str(tmp_path), fold=1, seed=7)  # injected
    exec(build.replace("from IPython.display import Image, display\n", ""), ns)
    c = ns["cfg"]
    assert (c.model, c.arch, c.folds, c.bs, c.name) == ("minilm", "cross", 3, 64, "minilm-cross-gpu")
    assert (c.fold, c.seed, c.data) == (1, 7, str(tmp_path))  # the notebook's parameters win
    ns = {}
    exec(params, ns)  # no config: the defaults, as before
    exec(build.replace("from IPython.display import Image, display\n", ""), ns)
    assert ns["cfg"].model == "microsoft/deberta-v3-small" and ns["cfg"].folds == 5


@pytest.mark.e2e
def test_imdb_train_with_a_config_file(tmp_path, monkeypatch):
    from kagglenlp.imdb.toy import write_toy_csv

    monkeypatch.setenv("KAGGLENLP_ROOT", str(tmp_path))
    csv = write_toy_csv(tmp_path / "s.csv", n=24)
    p = tmp_path / "imdb-tiny.toml"
    p.write_text(
        f'data = "{csv}"\nemb_sz = 16\nn_hid = 32\nn_layers = 1\nbs = 8\nseq_len = 16\nthreads = 1\nmin_freq = 1\n'
        "lm_epochs = [1, 1]\nclas_epochs = [1, 1, 1, 1]\n"
    )
    assert main(["imdb", "train", "--config", str(p), "--bs", "4"]) == 0
    rec = json.loads((tmp_path / "outputs" / "imdb-tiny" / "experiment.json").read_text())
    assert rec["settings"]["bs"] == 4 and rec["settings"]["emb_sz"] == 16 and rec["settings"]["lm_epochs"] == [1, 1]
    assert (tmp_path / "outputs" / "imdb-tiny" / "classifier_fwd.pkl").exists()


def test_kernel_params_are_notebook_10_parameters():
    assert kernel_params(CONFIG_DIR / "minilm-cross-gpu.toml") == {
        "model": "minilm",
        "name": "minilm-cross-gpu",
        "folds": 3,
        "settings": {"arch": "cross", "pool": "cls", "text": "seed", "epochs": 2.0, "bs": 64},
    }


def test_shipped_configs_are_package_data():
    from importlib.resources import files

    import tomllib

    shipped = {p.name for p in files("kagglenlp").joinpath("configs").iterdir() if p.name.endswith(".toml")}
    assert shipped == {p.name for p in CONFIG_DIR.glob("*.toml")} and shipped
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "configs/*.toml" in data["kagglenlp"]  # the wheel carries them
    assert (ROOT / "configs").resolve() == CONFIG_DIR.resolve()  # one source of truth: the root folder links here


def test_compared_recipes_are_valid_settings():
    """Every recipe of `configs/compare/recipes.toml` (the one home `scripts/compare_recipes.py` and
    `benchmarks/gpu.sh` read) is a valid `PatentsConfig`, its train flags as gpu.sh passes them parse to the same
    config, and blends name recipes of their own table."""
    import subprocess
    import sys

    import tomllib

    recipes = tomllib.loads((CONFIG_DIR / "compare" / "recipes.toml").read_text())
    assert set(recipes) == {"compare", "toolbox"} and len(recipes["compare"]) > 10
    flags = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "compare_recipes.py"), "--flags", "toolbox"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert [line.split("\t")[0] for line in flags] == list(recipes["toolbox"])
    for line in flags:
        name, argv = line.split("\t")
        want = PatentsConfig(data="d", **recipes["toolbox"][name])
        assert parse(["patents", "train", "--data", "d", *argv.split()]) == want, name
    for name, s in recipes["compare"].items():
        if "blend" in s:
            assert set(s["blend"]) <= set(recipes["compare"]), name
        elif not s.get("zeroshot"):
            PatentsConfig(data="d", **s)  # raises on a setting that does not exist or is refused
