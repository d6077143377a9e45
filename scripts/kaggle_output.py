#!/usr/bin/env python
"""`kagglenlp kaggle output` (see `--help` and docs/kaggle.md)."""
import sys

from kagglenlp.kaggle.cli import main

if __name__ == "__main__": sys.exit(main(["output", *sys.argv[1:]]))
