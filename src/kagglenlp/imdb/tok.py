"""The fastai tokenizer transform of every IMDb `DataBlock` (its own module so exported learners unpickle it)."""

from fastai.text.all import Tokenizer as FastaiTokenizer
from fastai.text.all import WordTokenizer

__all__ = ["Tokenizer", "pretokenized"]


class Tokenizer(FastaiTokenizer):
    "Token lists (from the cache) pass through untouched; a raw `str` is tokenized as usual (predict, generate)."

    # Keeps fastai's class name: pipelines find it as `dls.train_ds.tokenizer` (LM generation needs that).
    def setups(self, dsets):
        return None  # never retokenize the DataFrame: `tokenize_cached` did it


def pretokenized(col="toks"):
    "A `Tokenizer` whose lengths come from the `{col}_length` column, so the loaders need not measure texts."
    tok = Tokenizer(WordTokenizer(), mode="df", lengths=True)
    tok.tok_text_col = col
    return tok
