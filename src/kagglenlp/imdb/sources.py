"""Where the notebook finds IMDb and the general-domain LM: a Kaggle dataset, fastai's download, or local data.

Order: an attached Kaggle dataset (internet off) -> fastai's `untar_data` (internet on) -> `../shared/data`
(local real sample) -> tiny generated data, so the same notebook runs everywhere. Kaggle or not, and where Kaggle
mounts a dataset, come from `kagglenlp.paths` only.
"""

import socket

from .. import paths

__all__ = ["online", "find_imdb", "find_wt103", "IMDB_SLUGS", "WT103_SLUGS"]

IMDB_SLUGS = ("imdb", "aclimdb", "aclimdb-v1")  # Kaggle datasets holding the aclImdb folder
WT103_SLUGS = ("wt103-fwd", "fastai-wt103", "wt103")  # Kaggle datasets holding lstm_fwd.pth + itos_wt103.pkl


def online(host="files.fast.ai", timeout=3):
    "True when `host` answers on port 443 within `timeout` seconds."
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            return True
    except OSError:
        return False


def _attached(slugs, found):
    "First folder at most 2 levels inside a Kaggle input among `slugs` for which `found(folder)` holds, else None."
    for s in slugs:
        p = paths.kaggle_input(s)
        for d in [p, *sorted(p.glob("*")), *sorted(p.glob("*/*"))] if p.is_dir() else []:
            if d.is_dir() and found(d):
                return d
    return None


def _is_aclimdb(d):
    "True for an aclImdb folder (train/ and test/ inside)."
    return (d / "train").is_dir() and (d / "test").is_dir()


def _is_awd_lstm(d):
    "True for a pretrained AWD-LSTM folder (weights *.pth and a vocab *.pkl)."
    return any(d.glob("*.pth")) and any(d.glob("*.pkl"))


def find_imdb():
    """aclImdb folder or IMDb CSV to train on: Kaggle dataset, fastai download, shared sample, else tiny generated
    CSV."""
    if paths.is_kaggle():
        got = _attached(IMDB_SLUGS, _is_aclimdb)
        if got:
            return got
        if online():
            from fastai.data.external import URLs, untar_data

            return untar_data(URLs.IMDB)
    sd = paths.shared_data()
    if sd and (sd / "imdb_sample" / "texts.csv").exists():
        return sd / "imdb_sample" / "texts.csv"
    from .toy import write_toy_csv

    return write_toy_csv(paths.outputs_dir() / "toy" / "texts.csv", n=80)


def find_wt103():
    "Folder with fastai's WikiText-103 AWD-LSTM (Kaggle dataset or download), or None when neither is available."
    if paths.is_kaggle():
        got = _attached(WT103_SLUGS, _is_awd_lstm)
        if got:
            return got
        if online():
            from fastai.data.external import URLs, untar_data

            return untar_data(URLs.WT103_FWD, c_key="model")
    return None
