#!/usr/bin/env python
"""`kagglenlp kaggle push` (see `--help` and the README, "Run on Kaggle")."""

import sys

from kagglenlp.cli import main

if __name__ == "__main__":
    sys.exit(main(["kaggle", "push", *sys.argv[1:]]))
