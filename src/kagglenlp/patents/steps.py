"""Steps written in a notebook cell: your own input text (or recipe), used on every fold, wherever it runs.

    from kagglenlp.patents.steps import input_step

    @input_step("mine")                    # or bare `@input_step`: the function's name
    def mine(df, titles, sep):
        "anchor, target, CPC title: the strings the model reads for the rows of `df`."
        from kagglenlp.patents.inputs import context_titles   # imports inside: the source must run on its own
        ctx = context_titles(df.context, titles)
        return [f"{a}{sep}{t}{sep}{c}" for a, t, c in zip(df.anchor, df.target, ctx)]

    cfg = patents_config(data=..., arch="cross", text="mine")

`fn(df, titles, sep)` gets the rows (`id, anchor, target, context`, ...), the CPC titles (`--titles`, or None for
the built-in section titles) and the tokenizer's separator, and returns one string per row. The notebook's
multi-GPU launch forks the notebook (`run.train`), a pushed fold kernel IS the notebook, and the step travels
with the model, so the same step is used in process, on every GPU, in fold kernels and at inference:
- the experiment records a hash of the step's source (`fingerprints`): a changed cell under the same experiment
  name is refused on resume, like a changed setting, naming the step;
- each fold's `input_format.json` keeps the source itself (`step_record`); inference (`patents predict`, notebook
  11, the inference kernel) uses the step registered under that name when its source is the same, and otherwise
  runs the saved source only when told to (`--trust-steps`, `trust_steps=True`): it is your own code, like
  transformers' `trust_remote_code`. Without either it refuses, naming the step; never a built-in text instead.
So that the saved source can run alone, a step may use only builtins and what it imports inside its body (checked
when it is registered). A whole recipe (`@register` on a `Recipe` subclass in a cell) is fingerprinted the same
way; inference needs it registered with the same source (a class cannot be rebuilt from its source alone).
"""

import builtins
import dis
import hashlib
import inspect
import re
import textwrap
from contextlib import contextmanager

from ..errors import UserError, require

__all__ = [
    "INPUTS",
    "input_step",
    "function_source",
    "class_source",
    "source_hash",
    "step_record",
    "recipe_record",
    "fingerprints",
    "resolve_step",
    "check_recipe",
    "make_texts",
    "notebook_steps",
    "declared",
]

INPUTS = {}  # name -> the registered input function `fn(df, titles, sep) -> list[str]` (`--text NAME`)


def function_source(fn):
    "Source of function `fn` from its `def` line (decorators dropped), dedented; `UserError` when it has none."
    import ast

    try:
        src = textwrap.dedent(inspect.getsource(fn))
    except (OSError, TypeError):
        raise UserError(f"cannot read the source of {fn!r}: define it with `def` in a file or a cell") from None
    node = ast.parse(src).body[0]
    require(isinstance(node, ast.FunctionDef), f"{fn!r} is not a function defined with `def`")
    return "\n".join(src.splitlines()[node.lineno - 1 :]) + "\n"


def class_source(cls):
    "Source of class `cls` (a notebook's class has none before Python 3.13: then its methods' and attributes')."
    try:
        return inspect.getsource(cls)
    except (OSError, TypeError):
        parts = [f"class {cls.__name__}({', '.join(b.__name__ for b in cls.__bases__)}):"]
        for k, v in vars(cls).items():
            if inspect.isfunction(v):
                parts.append(textwrap.dedent(inspect.getsource(v)))
            elif not k.startswith("__"):
                parts.append(f"{k} = {v!r}")
        return "\n".join(parts) + "\n"


def source_hash(src):
    "Short sha256 of source text `src` (what the experiment records)."
    return hashlib.sha256(src.encode()).hexdigest()[:12]


def _outside_names(code):
    "Global names (not builtins) that code object `code` and the code nested in it read."
    names = {i.argval for i in dis.get_instructions(code) if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
    for c in code.co_consts:
        if inspect.iscode(c):
            names |= _outside_names(c)
    return names - set(dir(builtins))


def input_step(name=None):
    """Decorator: register `fn(df, titles, sep) -> list[str]` as input text `name` (default: its function's name)
    for `text=name` (cross-encoder). Re-running the cell replaces it; its body must import what it uses."""
    if callable(name):  # bare `@input_step`
        return input_step()(name)

    def register(fn):
        from .inputs import FORMATS

        key = name or fn.__name__
        require(key not in FORMATS, f"input step {key!r}: the name of a built-in --text; choose another name")
        require(re.fullmatch(r"[\w.-]+", key), f"input step {key!r}: use letters, digits, '_', '-' and '.' only")
        src = function_source(fn)
        outside = sorted(_outside_names(fn.__code__))
        require(
            not outside and not fn.__code__.co_freevars,
            f"input step {key!r} uses names defined outside it ({', '.join(outside or fn.__code__.co_freevars)}): "
            "import them inside the function, so that its saved source runs on its own where the model is used",
        )
        fn.step_source = src
        INPUTS[key] = fn
        return fn

    return register


def step_record(text):
    "What a fold's `input_format.json` keeps of input step `text` (name, function, source, hash); None: built in."
    fn = INPUTS.get(text)
    if fn is None:
        return None
    return {"name": text, "function": fn.__name__, "source": fn.step_source, "sha": source_hash(fn.step_source)}


def recipe_record(recipe):
    "`{name, sha}` of a recipe registered outside kagglenlp (a notebook's), None for a built-in one."
    cls = type(recipe)
    if cls.__module__.split(".")[0] == "kagglenlp":
        return None
    return {"name": recipe.name, "sha": source_hash(class_source(cls))}


def fingerprints(cfg):
    "The source hashes of `cfg`'s own steps as settings (`input step mine`: hash): a changed cell is refused."
    out = {}
    if (s := step_record(cfg.text)) is not None:
        out[f"input step {s['name']}"] = s["sha"]  # a key trackers take (letters, digits, _ - . and spaces)
    if (r := recipe_record(cfg.recipe)) is not None:
        out[f"recipe {r['name']}"] = r["sha"]
    return out


def _load(rec):
    "The function saved in step record `rec`, executed from its source (the user's own code)."
    ns = {"__name__": f"kagglenlp_step_{rec['name']}"}
    exec(compile(rec["source"], f"<input step {rec['name']}>", "exec"), ns)
    return ns[rec["function"]]


def resolve_step(rec, trust=False, where="a fold model"):
    """The input function of step record `rec` (from `input_format.json`): the registered one when its source is
    the same, else with `trust` the saved source; `UserError` naming the step otherwise."""
    name, fn = rec["name"], INPUTS.get(rec["name"])
    if fn is not None:
        here = source_hash(fn.step_source)
        require(
            here == rec["sha"],
            f"input step {name!r} defined here is not the one {where} was trained with (source {here} "
            f"vs {rec['sha']}); define that one again, or predict in a fresh process with --trust-steps "
            "(trust_steps=True) to run the saved source",
        )
        return fn
    require(
        trust,
        f"{where} was trained with the input step {name!r} (its source is saved in its input_format.json), and "
        "none of that name is defined here; define it (run its cell first), or pass --trust-steps (notebook 11: "
        "trust_steps=True) to run the saved source, your own code",
    )
    return _load(rec)


def check_recipe(fmt, recipe, where="a fold model"):
    "`UserError` when `fmt` (a fold's input format) names a notebook recipe and `recipe` (here) is not that one."
    saved, now = fmt.get("recipe"), recipe and recipe_record(recipe)
    if saved is None:
        return
    require(
        now and now["sha"] == saved["sha"],
        f"{where} was trained with recipe {saved['name']!r} defined in a notebook (source {saved['sha']}); the "
        f"one registered here has {now['sha'] if now else 'none'}: define the same class (run its cell) first",
    )


def make_texts(df, fmt, sep, fn=None):
    "The input strings of the rows of `df` for fold format `fmt`: a built-in `--text`, or its step (`fn`: given)."
    from .inputs import make_inputs

    rec = fmt.get("step")
    if rec is None:
        return make_inputs(df, fmt["text"], fmt.get("titles"), sep, fmt.get("sib_cap"))
    out = (fn or resolve_step(rec))(df, fmt.get("titles"), sep)
    out = list(out)
    require(
        len(out) == len(df) and all(isinstance(s, str) for s in out),
        f"input step {rec['name']!r} must return one string per row: got {len(out)} values for {len(df)} rows",
    )
    return out


def notebook_steps(cells):
    """Names of the input steps that code cells `cells` (source strings) register with `@input_step`, found by
    parsing them, not running them (a cell with IPython magics is skipped)."""
    import ast

    names = set()
    for src in cells:
        try:
            tree = ast.parse(src)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if not isinstance(node, ast.FunctionDef):
                continue
            for dec in node.decorator_list:
                call = dec if isinstance(dec, ast.Call) else None
                target = call.func if call else dec
                if (getattr(target, "id", None) or getattr(target, "attr", None)) != "input_step":
                    continue
                args = [*(call.args if call else []), *(k.value for k in (call.keywords if call else []))]
                named = [a.value for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
                names.add(named[0] if named else node.name)
    return names


@contextmanager
def declared(names):
    """Input steps `names` known while the block runs (stand-ins that cannot be called): settings naming a step a
    notebook defines pass the checks made before that notebook runs (e.g. before a fold kernel is pushed)."""

    def stand_in(df, titles, sep):
        raise UserError("a declared input step stands in for a notebook's: it cannot make strings")

    added = [n for n in names if n not in INPUTS]
    for n in added:
        INPUTS[n] = stand_in
    try:
        yield
    finally:
        for n in added:
            INPUTS.pop(n, None)
