"""USPPPM (patent phrase matching), one module per pipeline step: data, folds, inputs, models (cross-
and bi-encoder recipes), trainer, fold, run, metric, results, predict, blend, zeroshot, tune, cli
(docs/architecture.md)."""
