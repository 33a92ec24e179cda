"""Synchronous data-parallel training on MPI (mpi4py; ``pip install "steepest[mpi]"``).

    mpiexec -n 4 steepest train --distributed --batch-size 64     # 4 x 64 = global 256
    mpiexec -n 4 python my_script.py    # with fit(..., distributed=True) inside

See docs/distributed.md for the equivalence with one process, the learning-rate rule,
hostfiles and the cost model. Importing this package does not import mpi4py; ``init``
does, with a one-line error saying what to install when it is missing.
"""

from .comm import (
    DistributedError,
    ReduceOp,
    Session,
    all_reduce,
    barrier,
    broadcast,
    broadcast_bytes,
    find_mpiexec,
    gather_bytes,
    get_rank,
    get_world_size,
    init,
    init_process_group,
    is_initialized,
    rank,
    session,
    world_size,
)
from .data import ShardView, shard_loader
from .parallel import (
    DistributedDataParallel,
    DistributedDropout,
    FitSync,
    GradientAllReduce,
    broadcast_module,
)
from .sync_batchnorm import SyncBatchNorm

__all__ = [
    "DistributedDataParallel", "DistributedDropout", "DistributedError", "FitSync",
    "GradientAllReduce",
    "ReduceOp", "Session", "ShardView", "all_reduce", "barrier", "broadcast",
    "broadcast_bytes", "broadcast_module", "find_mpiexec", "gather_bytes", "get_rank",
    "get_world_size", "init", "init_process_group", "is_initialized", "rank", "session",
    "SyncBatchNorm", "shard_loader", "world_size",
]
