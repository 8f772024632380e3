"""``python -m skrbm_impute``: the ``skrbm-impute`` command (see :mod:`skrbm_impute._cli`)."""

import sys

from ._cli import build_parser, main

__all__ = ["build_parser", "main"]

if __name__ == "__main__":
    sys.exit(main())
