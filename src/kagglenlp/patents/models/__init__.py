"""The registered recipes (`--arch`): `cross` (one encoder reads the pair) and `bi` (phrases embedded apart).

`from kagglenlp.patents.models import get_recipe` gives a registered recipe; importing this package registers the
built-in ones (their modules import torch only when a model is built or loaded).
"""

from . import bi, cross  # noqa: F401  (registers them)
from .recipe import REGISTRY, Recipe, get_recipe, recipe_for, register

__all__ = ["Recipe", "REGISTRY", "register", "get_recipe", "recipe_for"]
