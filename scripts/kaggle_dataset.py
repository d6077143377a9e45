#!/usr/bin/env python
"""`kagglenlp kaggle dataset` (see `--help` and the README, "Run on Kaggle")."""
import sys

from kagglenlp.kaggle.cli import main

if __name__ == "__main__": sys.exit(main(["dataset", *sys.argv[1:]]))
