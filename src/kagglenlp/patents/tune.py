"""`kagglenlp patents tune`: an Optuna sweep where every trial is a normal experiment on the same folds.

A trial takes the base config file's settings, draws the `--param` settings, and trains experiment
`<study>-t<NNN>` fold by fold through `run_experiment` (the function behind `patents train`), so it has its own
`outputs/<name>/`, `experiment.json` and results row. After each fold the fold's Pearson goes to Optuna's
`MedianPruner`, which stops a trial whose first folds are clearly worse than the earlier trials' at the same fold;
the objective is the OOF Pearson. Settings that define the split (`folds`, `split`, `seed`, `max_rows`, ...) cannot
be tuned, so all trials share the folds and their scores compare.

The study lives in an Optuna RDB storage: by default the SQLite file `outputs/optuna.db` (a rerun of the same
command continues the study: finished trials count towards `--trials`, and an interrupted trial is queued again
under its name, so its finished folds are kept); `--storage` takes any RDB URL (a shared SQLite file, PostgreSQL,
MySQL), and several workers running the same command share one study. A study records what its trials share (the
base settings, the `--param` space and the data's fingerprint): a rerun under other ones is refused, naming each
difference, so one study never mixes trials of two sweeps. A storage that cannot be opened (not a URL, a driver not
installed, a missing or read-only folder) is one `error:` line. The best trial so far is written as a config file
holding the settings it trained with (its own `experiment.json`).
"""

import os
import warnings
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Optional

from ..args import opt, to_toml
from ..errors import UserError, require
from .config import IGNORED_ON_RESUME, PatentsConfig, settings

__all__ = [
    "TuneArgs",
    "ParamSpec",
    "parse_param",
    "SPLIT_SETTINGS",
    "run_tune",
    "storage_url",
    "open_study",
    "check_storage",
    "study_record",
    "check_record",
    "best_config",
]

# Settings that define the folds (or are input paths): the same in every trial, so the trials' scores compare.
SPLIT_SETTINGS = ("data", "folds", "split", "seed", "max_rows", "date_col", "gap")
NOT_IN_BEST = ("name", "fold", "overwrite")  # settings of a trial's experiment.json that best.toml leaves out
RECORD = "record"  # the study's user attribute holding `study_record`
KINDS = ("uniform", "loguniform", "int", "logint", "choice")


@dataclass
class TuneArgs:
    "Sweep settings with Optuna: each trial a normal experiment on the same folds, pruned on its per-fold Pearson."

    config: str = opt(help="base config file (TOML): the settings every trial starts from")
    param: list[str] = opt(
        help="NAME=KIND:ARGS, repeatable: uniform:LO:HI, loguniform:LO:HI, int:LO:HI, logint:LO:HI, choice:A,B,C",
        repeat=True,
    )
    trials: int = opt(10, "finished (complete or pruned) trials the study should have; a rerun continues to this")
    data: Optional[str] = opt(None, "competition folder (overrides the config file's `data`)")
    study: Optional[str] = opt(
        None,
        "study name; trials are experiments <study>-t<NNN> (default: <config stem>-tune)",
    )
    storage: Optional[str] = opt(None, "Optuna RDB URL shared by workers (default: sqlite:///outputs/optuna.db)")
    startup: int = opt(3, "trials that finish before any trial is pruned (MedianPruner n_startup_trials)")
    sampler_seed: Optional[int] = opt(None, "seed of the TPE sampler (one worker: a reproducible sequence)")
    best: Optional[str] = opt(None, "where to write the best trial's config (default: outputs/<study>-best.toml)")


@dataclass
class ParamSpec:
    "One swept setting: `name`, distribution `kind` and its `args` (bounds, or the choices)."

    name: str
    kind: str
    args: tuple

    def suggest(self, trial):
        "Draw this setting for Optuna `trial`."
        if self.kind == "choice":
            return trial.suggest_categorical(self.name, list(self.args))
        lo, hi = self.args
        if self.kind in ("int", "logint"):
            return trial.suggest_int(self.name, lo, hi, log=self.kind == "logint")
        return trial.suggest_float(self.name, lo, hi, log=self.kind == "loguniform")


def _field_types():
    "`{field: (python type, choices)}` of `PatentsConfig`."
    import typing

    from ..args import _base_type

    hints = typing.get_type_hints(PatentsConfig)
    return {f.name: (_base_type(hints[f.name]), f.metadata.get("choices")) for f in fields(PatentsConfig)}


def _convert(text, typ, spec):
    "String `text` as a value of type `typ`, or a `UserError` naming `spec`."
    try:
        if typ is bool:
            require(text.lower() in ("true", "false"), "")
            return text.lower() == "true"
        return typ(text)
    except (ValueError, UserError):
        raise UserError(f"--param {spec!r}: {text!r} is not a {getattr(typ, '__name__', typ)}") from None


def parse_param(spec):
    "`ParamSpec` of `--param NAME=KIND:ARGS`, checked against `PatentsConfig`; bad specs raise one `UserError`."
    import difflib

    types = _field_types()
    name, eq, rest = spec.partition("=")
    kind, colon, args = rest.partition(":")
    require(
        eq and colon and name and args,
        f"--param {spec!r} should be NAME=KIND:ARGS, e.g. lr=loguniform:1e-5:1e-3",
    )
    if name not in types:
        near = difflib.get_close_matches(name.replace("-", "_"), types, n=1)
        raise UserError(
            f"--param {spec!r}: unknown setting {name!r}" + (f"; did you mean {near[0]!r}?" if near else "")
        )
    require(
        name not in SPLIT_SETTINGS,
        f"--param {spec!r}: {name} defines the folds, which every trial shares; set it in the config file",
    )
    require(name not in IGNORED_ON_RESUME, f"--param {spec!r}: {name} does not change results; nothing to tune")
    require(kind in KINDS, f"--param {spec!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    typ, choices = types[name]
    if kind == "choice":
        vals = tuple(_convert(v, typ, spec) for v in args.split(","))
        bad = [v for v in vals if choices and v not in choices]
        if bad:
            raise UserError(f"--param {spec!r}: {bad[0]!r} is not one of {', '.join(map(str, choices))}")
        return ParamSpec(name, kind, vals)
    require(typ in (int, float), f"--param {spec!r}: {name} is not a number; use choice:A,B")
    bounds = args.split(":")
    require(len(bounds) == 2, f"--param {spec!r}: {kind} takes LO:HI")
    num = int if kind in ("int", "logint") else float
    fix = "an integer; use int or logint" if typ is int else "a float; use uniform or loguniform"
    require(num is typ, f"--param {spec!r}: {name} is {fix}")
    lo, hi = (_convert(b, num, spec) for b in bounds)
    require(lo < hi, f"--param {spec!r}: LO must be below HI")
    require(not kind.startswith("log") or lo > 0, f"--param {spec!r}: a log scale needs LO > 0")
    return ParamSpec(name, kind, (lo, hi))


def storage_url(storage=None):
    "`storage`, or the default SQLite file `outputs/optuna.db` (absolute, so workers in other folders agree)."
    from .. import paths

    if storage:
        return storage
    paths.outputs_dir().mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{paths.outputs_dir().resolve() / 'optuna.db'}"


def check_storage(url):
    """Raise one `UserError` when Optuna storage `url` cannot be opened: not a database URL, its driver not
    installed, or (SQLite) a folder that is missing or cannot be written. Writes nothing."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from ..files import check_writable

    try:
        u = make_url(url)
        u.get_dialect().import_dbapi()
    except ArgumentError:
        raise UserError(
            f"--storage {url!r} is not a database URL; give e.g. sqlite:///path/to/optuna.db or "
            "postgresql://user:password@host/db"
        ) from None
    except ImportError as e:  # e.g. postgresql:// without psycopg2, or an unknown backend
        raise UserError(
            f"--storage {url!r}: the database driver for {url.split(':')[0]} is not installed ({e}); install it "
            "(postgresql: pip install psycopg2-binary; mysql: pip install pymysql) or use a sqlite:/// file"
        ) from None
    if u.get_backend_name() == "sqlite" and u.database not in (None, "", ":memory:"):
        db = Path(u.database)
        rel = "" if db.is_absolute() else f" (a relative path after sqlite:/// is from the current folder {Path.cwd()})"
        require(
            db.resolve().parent.is_dir(),
            f"--storage {url!r}: folder {db.resolve().parent} does not exist{rel}",
        )
        require(not db.is_dir(), f"--storage {url!r}: {db.resolve()} is a folder; name the database file in it")
        check_writable(db.resolve().parent)
        require(
            not db.exists() or os.access(db, os.W_OK),
            f"--storage {url!r}: {db.resolve()} is read-only; fix its permissions (chmod u+w) or use another file",
        )
    return url


def _storage(url):
    "An Optuna `RDBStorage` for `url` with heartbeats (a killed worker's trial is marked failed and run again)."
    import optuna

    kw = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    with warnings.catch_warnings():  # Optuna calls heartbeats "experimental"; a warning per study is noise
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        return optuna.storages.RDBStorage(url, engine_kwargs=kw, heartbeat_interval=60, grace_period=180)


def open_study(url, attempts=5, **kw):
    """`optuna.create_study(storage=url, load_if_exists=True, **kw)`, retried when another worker creates the same
    tables or study at the same moment (SQLite: an `IntegrityError` on `alembic_version` or the study's name)."""
    import time

    import optuna
    from sqlalchemy.exc import DatabaseError, IntegrityError, OperationalError

    for i in range(attempts):
        try:
            return optuna.create_study(storage=_storage(url), load_if_exists=True, **kw)
        except (IntegrityError, OperationalError) as e:
            if i == attempts - 1:
                raise _storage_error(url, e) from None
            time.sleep(0.5 * (i + 1))
        except (DatabaseError, ImportError) as e:  # e.g. a file that is not a database; a driver that cannot load
            raise _storage_error(url, e) from None


def _storage_error(url, e):
    "The `UserError` for Optuna storage `url` failing to open with exception `e` (its first line, no traceback)."
    why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
    return UserError(
        f"cannot open the Optuna storage {url} ({why}); check the URL, the server and its permissions",
    )


def study_record(base, specs, data):
    """What every trial of a study shares, as the study records it: the base settings that change results, the
    `--param` space (`{name: [kind, *args]}`) and the data's fingerprint (`{file: sha256}`)."""
    base_settings = {k: v for k, v in settings(base).items() if k not in IGNORED_ON_RESUME}
    return {
        "base": base_settings,
        "params": {s.name: [s.kind, *s.args] for s in specs},
        "data": {k: v for k, v in data.items() if k != "all"},
    }


def _spec_text(v):
    "A recorded `[kind, *args]` as `--param` spells it (`loguniform:1e-05:0.001`; `choice:a,b`), or `none`."
    if v is None:
        return "none"
    return f"{v[0]}:{','.join(map(str, v[1:]))}" if v[0] == "choice" else ":".join(map(str, v))


def check_record(old, new, study_name):
    """Raise one `UserError` listing what differs when study record `new` (`study_record`) is not the `old` one a
    study was started with; swept settings are compared as `--param`s, not as base settings."""
    from ..experiment import settings_diff

    swept = set(old.get("params", {})) | set(new["params"])
    ob, nb = old.get("base", {}), new["base"]
    diff = [f"{k}: {ob.get(k)!r} -> {nb.get(k)!r}" for k in settings_diff(ob, nb, swept)]
    op, nw = old.get("params", {}), new["params"]
    diff += [f"--param {k}: {_spec_text(op.get(k))} -> {_spec_text(nw.get(k))}" for k in settings_diff(op, nw)]
    od, nd = old.get("data", {}), new["data"]
    diff += [f"data {k} changed" for k in settings_diff(od, nd)]
    if diff:
        raise UserError(
            f"study {study_name!r} was started with other settings ({'; '.join(diff)}); its trials would not "
            "compare: continue it with the same base config, --param set and data, or choose another --study"
        )


def best_config(study, path, base_file=""):
    """Write the best trial of `study` as a config file at `path`: the settings it trained with, from its own
    `experiment.json` (from the trial's record when that folder is elsewhere), less `NOT_IN_BEST`."""
    from .. import paths
    from ..experiment import RECORD as EXP_RECORD
    from ..files import read_json, write_text

    best = study.best_trial
    exp = best.user_attrs.get("experiment", "")
    rec = paths.exp_dir(exp) / EXP_RECORD if exp else None
    used = read_json(rec)["settings"] if rec and rec.exists() else best.user_attrs.get("settings")
    require(used, f"the best trial {best.number} ({exp}) has no experiment.json under {paths.outputs_dir()}")
    vals = {k: v for k, v in used.items() if k not in NOT_IN_BEST}
    note = (
        f"best trial {best.number} of study {study.study_name!r}: OOF Pearson {best.value:.4f} (experiment {exp})\n"
        f"the settings it trained with (its experiment.json); base config: {base_file}; swept: {', '.join(best.params)}"
    )
    return write_text(to_toml(vals, note), path)


def _requeue_interrupted(study, max_depth=2):
    """Queue again each failed trial that was interrupted (not refused), under its experiment name; returns how
    many."""
    from optuna.trial import TrialState

    trials = study.get_trials(deepcopy=False)
    requeued = {t.user_attrs.get("requeued_from") for t in trials}
    n = 0
    for t in trials:
        if t.state != TrialState.FAIL or "error" in t.user_attrs or t.number in requeued or not t.params:
            continue
        if t.user_attrs.get("depth", 0) >= max_depth or "experiment" not in t.user_attrs:
            continue
        attrs = {
            "experiment": t.user_attrs["experiment"],
            "requeued_from": t.number,
            "depth": t.user_attrs.get("depth", 0) + 1,
        }
        study.enqueue_trial(t.params, user_attrs=attrs)
        n += 1
    return n


def _objective(base, specs, folds, study_name):
    """The Optuna objective: train one trial's experiment fold by fold, report each fold's Pearson, return OOF
    Pearson."""
    import optuna

    from .. import paths
    from .run import run_experiment
    from .storage import fold_dir, read_done

    def refused(trial, name, e):
        "Record why `trial` cannot give a score (`UserError` `e`) and say so; Optuna marks it failed."
        trial.set_user_attr("error", str(e))
        print(f"trial {trial.number} ({name}) failed: {e}")
        return e

    def objective(trial):
        params = {s.name: s.suggest(trial) for s in specs}
        name = trial.user_attrs.get("experiment") or f"{study_name}-t{trial.number:03d}"
        trial.set_user_attr("experiment", name)
        trial.set_user_attr("worker", f"{os.uname().nodename}:{os.getpid()}")
        try:
            cfg = replace(base, **params, name=name)  # an impossible setting (e.g. a head the recipe lacks) raises
        except UserError as e:
            raise refused(trial, name, e) from None
        # best.toml's source when the experiment folder is elsewhere
        trial.set_user_attr("settings", settings(cfg))
        cv = None
        for step, k in enumerate(folds):
            try:  # a fold with constant predictions (no Pearson) raises too: the trial fails, the sweep goes on
                cv = run_experiment(replace(cfg, fold=k))
            except UserError as e:
                raise refused(trial, name, e) from None
            r = read_done(fold_dir(paths.exp_dir(name), k))["pearson"]
            trial.set_user_attr(f"fold{k}", r)
            trial.report(r, step)
            if trial.should_prune():
                print(f"trial {trial.number} ({name}) pruned after fold {k}: pearson {r:.4f}")
                raise optuna.TrialPruned()
        require(cv is not None, f"experiment {name}: folds still missing after training all of them")
        return cv["pearson"]

    return objective


def run_tune(a):
    "Run (or continue) the sweep `a` (`TuneArgs`); returns the study."
    import optuna
    from optuna.study import MaxTrialsCallback
    from optuna.trial import TrialState

    from .. import paths
    from ..experiment import check_name
    from .config import patents_config
    from .run import data_fingerprint, prepare_inputs

    # Everything that can fail on bad input is checked before the study is created.
    specs = [parse_param(s) for s in a.param]
    names = [s.name for s in specs]
    require(len(set(names)) == len(names), f"--param names a setting twice: {', '.join(names)}")
    require(a.trials >= 1, "--trials must be at least 1")
    base = patents_config(a.config, **({"data": a.data} if a.data else {}))
    base = replace(base, fold=None, overwrite=False)
    study_name = check_name(a.study or f"{Path(a.config).stem}-tune", "--study")
    trn = prepare_inputs(base)[0]
    folds = sorted(int(k) for k in trn["fold"].unique() if k >= 0)
    best_path = Path(a.best) if a.best else paths.outputs_dir() / f"{study_name}-best.toml"
    record = study_record(base, specs, data_fingerprint(base))
    url = check_storage(storage_url(a.storage))

    # Optuna's own log would print a traceback for each failed or interrupted trial: refused trials say why below
    optuna.logging.set_verbosity(optuna.logging.ERROR)
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)  # heartbeats: "experimental"
    study = open_study(
        url,
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=a.sampler_seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=a.startup, n_warmup_steps=0),
    )
    if RECORD in study.user_attrs:  # a continued sweep: the same base settings, --param space and data
        check_record(study.user_attrs[RECORD], record, study_name)
    else:
        study.set_user_attr(RECORD, record)
    optuna.storages.fail_stale_trials(study)
    requeued = _requeue_interrupted(study)
    finished = (TrialState.COMPLETE, TrialState.PRUNED)
    done = len(study.get_trials(deepcopy=False, states=finished))
    print(
        f"study {study_name}: {done} of {a.trials} trials finished"
        + (f", {requeued} interrupted trial(s) queued again" if requeued else "")
        + f"; folds {folds}; storage {url}"
    )
    if done < a.trials:
        study.optimize(
            _objective(base, specs, folds, study_name),
            n_trials=a.trials - done + requeued,
            # after each trial: stop at --trials, and queue again a trial of a worker that died (heartbeat)
            callbacks=[MaxTrialsCallback(a.trials, states=finished), lambda st, _: _requeue_interrupted(st)],
            catch=(UserError,),
        )
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if complete:
        best = study.best_trial
        exp = best.user_attrs.get("experiment")
        print(f"best: trial {best.number} ({exp}) OOF Pearson {best.value:.4f} {best.params}")
        print(f"best config: {best_config(study, best_path, a.config)}")
    else:
        print(f"study {study_name}: no trial has completed yet, so there is no best config")
    return study
