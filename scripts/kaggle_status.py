#!/usr/bin/env python
"""`kagglenlp kaggle status` (see `--help` and docs/kaggle.md)."""
import sys

from kagglenlp.kaggle.cli import main

if __name__ == "__main__": sys.exit(main(["status", *sys.argv[1:]]))
