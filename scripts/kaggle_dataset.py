#!/usr/bin/env python
"""`kagglenlp kaggle dataset` (see `--help` and docs/kaggle.md)."""

import sys

from kagglenlp.cli import main

if __name__ == "__main__":
    sys.exit(main(["kaggle", "dataset", *sys.argv[1:]]))
