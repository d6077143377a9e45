"""What the CLI imports before a command runs: `--help` and argument errors must not wait for the heavy libraries."""

import subprocess
import sys

HEAVY = ("torch", "transformers", "sklearn", "matplotlib", "datasets", "scipy", "fastai")


def loaded(code, names):
    "The subset of `names` in `sys.modules` after running `code` in a fresh interpreter."
    probe = f"import sys\n{code}\nprint(' '.join(n for n in {names!r} if n in sys.modules) or '-')"
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return r.stdout.split()[-1]


def test_parser_imports_no_heavy_library():
    "Building every `kagglenlp` parser (what `--help` runs) imports none of torch, transformers, sklearn, pandas, ..."
    assert loaded("from kagglenlp.cli import build_parser; build_parser()", ("pandas", *HEAVY)) == "-"


def test_patents_settings_modules_import_no_pandas():
    "The modules behind `patents train/zeroshot --help` (config, recipes, splits, text, storage) leave pandas unloaded."
    code = "import kagglenlp.patents.config, kagglenlp.patents.zeroshot, kagglenlp.patents.storage"
    assert loaded(code, ("pandas", *HEAVY)) == "-"
