"""``python -m steepest.tune --config search.toml``: the ``steepest tune`` command."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
