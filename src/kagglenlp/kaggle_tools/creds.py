"""Kaggle credentials: find them where the kaggle CLI does, and make sure none is ever packaged or pushed.

The CLI reads, in order: an access token (`KAGGLE_API_TOKEN`, or `~/.kaggle/access_token`), a legacy
key (`KAGGLE_USERNAME` + `KAGGLE_KEY`, or `kaggle.json` in `KAGGLE_CONFIG_DIR` / `~/.kaggle` /
`~/.config/kaggle`), then OAuth (`~/.kaggle/credentials.json` from `kaggle auth login`). Nothing here
copies a credential anywhere: we only say where it is, and refuse files that contain one.
"""

import json
import os
import re
import zipfile
from pathlib import Path

from .. import paths
from ..errors import UserError

__all__ = [
    "config_dir",
    "credential_source",
    "require_credentials",
    "secret_values",
    "secret_reason",
    "scan_files",
    "check_no_credentials",
    "CREDENTIAL_NAMES",
    "HOW_TO",
]

CREDENTIAL_NAMES = {"kaggle.json", "access_token", "access_token.txt", "credentials.json", ".env"}
KEY_RES = [  # strings shaped like a Kaggle credential
    (re.compile(r"KGAT_[A-Za-z0-9]{16,}"), "a Kaggle API token (KGAT_...)"),
    (re.compile(r"""(?i)(kaggle_key|"key")\s*[:=]\s*["']?[0-9a-f]{32}(?![0-9a-f])"""), "a Kaggle key assignment"),
    (
        re.compile(r"(?<![0-9A-Za-z_])(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{32}(?![0-9A-Za-z_])"),
        "a 32-hex-digit string shaped like a Kaggle key",
    ),
]
HOW_TO = (
    "no Kaggle credentials found. Create a token at https://www.kaggle.com/settings/api, then either\n"
    "  export KAGGLE_API_TOKEN=...            (or save it to ~/.kaggle/access_token), or\n"
    "  export KAGGLE_USERNAME=... KAGGLE_KEY=...  (or save kaggle.json to ~/.kaggle/, chmod 600;\n"
    "  KAGGLE_CONFIG_DIR moves that folder), or run `kaggle auth login`."
)


def _home():
    "The user's home folder (where the CLI looks for `.kaggle/`)."
    return Path(os.path.expanduser("~"))


def _get(env, name):
    """Variable `name` from dict `env`, or through `kagglenlp.paths.env` (the one reader of the environment) when
    None."""
    return paths.env(name) if env is None else env.get(name)


def config_dir(env=None):
    """Folder where the CLI looks for `kaggle.json`: `KAGGLE_CONFIG_DIR`, `~/.kaggle`, else
    `$XDG_CONFIG_HOME/kaggle`."""
    if _get(env, "KAGGLE_CONFIG_DIR"):
        return Path(_get(env, "KAGGLE_CONFIG_DIR"))
    d = _home() / ".kaggle"
    if d.exists():
        return d
    return Path(_get(env, "XDG_CONFIG_HOME") or _home() / ".config") / "kaggle"


def _read_json(p):
    "The JSON in file `p`, or None when it is missing or not JSON."
    try:
        return json.loads(Path(p).read_text())
    except (OSError, ValueError):
        return None


def credential_source(env=None):
    "Where the CLI will find credentials (a description, never the secret), or None."
    if _get(env, "KAGGLE_API_TOKEN"):
        return "KAGGLE_API_TOKEN"
    for n in ("access_token", "access_token.txt"):
        p = _home() / ".kaggle" / n
        if p.is_file() and p.read_text().strip():
            return str(p)
    if _get(env, "KAGGLE_USERNAME") and _get(env, "KAGGLE_KEY"):
        return "KAGGLE_USERNAME/KAGGLE_KEY"
    cfg = _read_json(config_dir(env) / "kaggle.json")
    if isinstance(cfg, dict) and cfg.get("username") and cfg.get("key"):
        return str(config_dir(env) / "kaggle.json")
    if (_home() / ".kaggle" / "credentials.json").is_file():
        return str(_home() / ".kaggle" / "credentials.json")
    return None


def require_credentials(env=None):
    "The credential source, or `UserError` saying how to provide one."
    src = credential_source(env)
    if src is None:
        raise UserError(HOW_TO)
    return src


def secret_values(env=None):
    "The credential strings configured on this machine (to find them verbatim in files about to leave it)."
    vals = [_get(env, "KAGGLE_KEY") or "", _get(env, "KAGGLE_API_TOKEN") or ""]
    cfg = _read_json(config_dir(env) / "kaggle.json")
    if isinstance(cfg, dict):
        vals.append(str(cfg.get("key", "")))
    for n in ("access_token", "access_token.txt"):
        p = _home() / ".kaggle" / n
        if p.is_file():
            vals.append(p.read_text().strip())
    return sorted({v for v in vals if len(v) >= 8})


def secret_reason(name, data, secrets=(), shape=True):
    "Why file `name` with bytes `data` looks like a credential (or None); `shape` also matches key-shaped strings."
    base = Path(name).name
    if base in CREDENTIAL_NAMES or base.startswith(".env."):
        return f"its name ({base}) is a credential file's"
    for s in secrets:
        if s.encode() in data:
            return "it contains a configured Kaggle credential"
    if shape:
        text = data.decode("utf-8", "ignore")
        for rx, what in KEY_RES:
            if rx.search(text):
                return f"it contains {what}"
    return None


def scan_files(paths, secrets=None, shape_wheels=()):
    """Problems `[(file, reason)]` in `paths`: names, configured secrets, key-shaped strings. Wheels/zips are
    opened; key *shapes* are looked for inside a wheel only when its name starts with one of `shape_wheels`
    (our own code: a third-party wheel legitimately holds hex hashes)."""
    secrets = secret_values() if secrets is None else secrets
    bad = []
    for p in map(Path, paths):
        if p.suffix in (".whl", ".zip") and zipfile.is_zipfile(p):
            shape = p.name.startswith(tuple(shape_wheels)) if shape_wheels else False
            with zipfile.ZipFile(p) as z:
                for m in z.infolist():
                    if m.is_dir():
                        continue
                    r = secret_reason(m.filename, z.read(m), secrets, shape)
                    if r:
                        bad.append((f"{p}!{m.filename}", r))
        else:
            r = secret_reason(p.name, p.read_bytes(), secrets, shape=p.stat().st_size < 5_000_000)
            if r:
                bad.append((str(p), r))
    return bad


def check_no_credentials(paths, secrets=None, shape_wheels=()):
    "Raise `UserError` naming each file of `paths` that is or holds a credential (see `scan_files`)."
    bad = scan_files(paths, secrets, shape_wheels)
    if bad:
        lines = "\n".join(f"  {f}: {r}" for f, r in bad)
        raise UserError(f"refusing to upload credentials; remove them and retry:\n{lines}")
