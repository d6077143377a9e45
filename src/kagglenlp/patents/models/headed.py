"""Saving and loading a backbone-plus-head model, the shape both built-in recipes share.

The backbone and tokenizer go through `save_pretrained` (so the fold folder is also a plain transformers model
folder); everything outside `model.backbone` goes to `head.safetensors`. Each write runs under
`files.saving`, so a full disk (or a `SafetensorError`) is one error naming the file; the fold's `done.json`
is written only after them, so a half-saved fold is never used and is retrained on resume.
"""

from pathlib import Path

from ...errors import require
from ...files import saving
from ..storage import FORMAT_FILE

__all__ = ["HEAD_FILE", "save_headed", "load_head"]

HEAD_FILE = "head.safetensors"


def save_headed(model, tok, fd):
    "Save `model`'s backbone and tokenizer (`save_pretrained`) and its head weights into fold folder `fd`."
    from safetensors.torch import save_file

    fd = Path(fd)
    with saving(fd / "model.safetensors"):
        model.backbone.save_pretrained(str(fd))
    with saving(fd / "tokenizer.json"):
        tok.save_pretrained(str(fd))
    state = model.state_dict().items()
    head = {k: v.detach().cpu().contiguous() for k, v in state if not k.startswith("backbone.")}
    with saving(fd / HEAD_FILE):
        save_file(head, str(fd / HEAD_FILE))


def load_head(model, fd):
    "`model` (built on the backbone saved in `fd`) with its head weights from `fd`, in eval mode."
    from safetensors.torch import load_file

    fd = Path(fd)
    require((fd / HEAD_FILE).exists(), f"{fd} holds no {HEAD_FILE}; the fold is incomplete, retrain it")
    missing, unexpected = model.load_state_dict(load_file(str(fd / HEAD_FILE)), strict=False)
    require(
        not unexpected and all(k.startswith("backbone.") for k in missing),
        f"{fd / HEAD_FILE} does not fit the head in {FORMAT_FILE} (missing {missing[:3]}, unexpected "
        f"{unexpected[:3]}); retrain the fold",
    )
    return model.eval()
