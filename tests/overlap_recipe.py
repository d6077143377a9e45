"""A third patents recipe in one file: the word overlap of anchor and target, fitted by least squares.

No backbone and no `Trainer`: it shows the whole `Recipe` interface on something small. Registered on import, so
`kagglenlp patents train --arch overlap` trains it and `kagglenlp patents predict` finds it from the folds'
`input_format.json` (docs/architecture.md, "Adding a recipe").
"""

import json

import numpy as np

from kagglenlp.patents.models import Recipe, register


def overlap(df):
    "Jaccard overlap of the anchor's and the target's words, one value per row of `df`."
    a, t = (df[c].str.lower().str.split().map(set) for c in ("anchor", "target"))
    return np.array([len(x & y) / max(len(x | y), 1) for x, y in zip(a, t)])


@register
class OverlapRecipe(Recipe):
    "Least-squares line on the anchor/target word overlap."

    name = "overlap"
    texts = ("seed",)  # it reads the raw phrases; the format only names them
    default_lr = 1.0  # no gradient steps: only recorded

    def prepare(self, cfg, tok, trn, tst, fmt):
        return {"x": overlap(trn), "y": trn["score"].values, "x_test": overlap(tst), "fmt": fmt}

    def build(self, cfg):
        return {"coef": [0.0, 0.0]}

    def fit(self, cfg, model, tok, inputs, m_trn, m_val, args):
        coef = np.polyfit(inputs["x"][m_trn], inputs["y"][m_trn], 1)
        return {"coef": coef.tolist()}, np.polyval(coef, inputs["x"][m_val]), np.polyval(coef, inputs["x_test"]), []

    def save(self, model, tok, fd):
        (fd / "overlap.json").write_text(json.dumps(model))

    def load(self, fd, fmt):
        return json.loads((fd / "overlap.json").read_text())

    def predict(self, fd, fmt, df, bs):
        return np.polyval(self.load(fd, fmt)["coef"], overlap(df))
