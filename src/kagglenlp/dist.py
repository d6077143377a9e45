"""Several processes, one writer: what `torchrun --nproc_per_node N` / `accelerate launch` runs need from us.

HF `Trainer` already trains with DistributedDataParallel when started by a launcher (`WORLD_SIZE` > 1). This module
lets the rest of a run follow: rank 0 alone checks the experiment record, takes the lock and writes files; the
other ranks get its decisions (or its error) with `share`, so every process trains the same folds in lockstep.
"""

import os

from .errors import UserError

__all__ = ["world_size", "rank", "is_main", "share", "barrier"]


def world_size():
    "Number of processes started by the launcher (1 without one)."
    return int(os.environ.get("WORLD_SIZE", "1"))


def rank():
    "This process's global rank (0 without a launcher)."
    return int(os.environ.get("RANK", "0"))


def is_main():
    "True in the process that writes (rank 0, or the only process)."
    return rank() == 0


def _init():
    "Start the process group the way `Trainer` will (accelerate: NCCL on GPUs, gloo on the CPU)."
    from accelerate import PartialState

    PartialState()


def share(fn):
    """Run `fn()` on rank 0 and return its result on every rank; a `UserError` it raises is raised on every rank
    (with the same message), so no rank goes on alone. Without a launcher this is just `fn()`."""
    if world_size() == 1:
        return fn()
    import torch.distributed as dist

    _init()
    box = [None]
    if is_main():
        try:
            box = [("ok", fn())]
        except UserError as e:
            box = [("error", str(e))]
    dist.broadcast_object_list(box, src=0)
    status, value = box[0]
    if status == "error":
        raise UserError(value)
    return value


def barrier():
    "Wait for every rank (no-op without a launcher)."
    if world_size() > 1:
        import torch.distributed as dist

        _init()
        dist.barrier()
