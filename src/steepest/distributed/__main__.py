"""``python -m steepest.distributed -n N COMMAND ...``: run ``mpiexec`` of this Python's
MPI (the mpich wheel's, found by :func:`find_mpiexec`) even when it is not on ``PATH``."""

from __future__ import annotations

import os
import sys

from .comm import DistributedError, find_mpiexec


def main() -> None:
    try:
        exe = find_mpiexec()
    except DistributedError as exc:
        print(f"steepest.distributed: error: {exc}", file=sys.stderr)
        sys.exit(2)
    os.execv(exe, [exe, *sys.argv[1:]])


if __name__ == "__main__":
    main()
