"""`python -m kagglenlp ...` is the `kagglenlp` console script."""

import sys

from .cli import main

sys.exit(main())
