#!/usr/bin/env python
"""`kagglenlp kaggle submit` (see `--help` and docs/kaggle.md)."""

import sys

from kagglenlp.cli import main

if __name__ == "__main__":
    sys.exit(main(["kaggle", "submit", *sys.argv[1:]]))
