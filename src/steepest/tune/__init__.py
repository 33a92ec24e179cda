"""Hyperparameter search and cross-validation.

The procedure of the notes: hold out a validation set (never tune on the test set), sample
hyperparameters at random on log scales (learning rate 10^U(-6,-2), weight decay
10^U(-8,-4)), score each trial on validation data, narrow the ranges around the best trials
and search again (coarse to fine), or use k-fold cross-validation when data is scarce.
Hopeless trials stop early (ASHA-style rungs); trials run in parallel worker processes or on
Ray; every finished trial is logged so an interrupted search resumes.

>>> from steepest import tune
>>> result = tune.search("train_mlp", {"lr": tune.loguniform(1e-6, 1e-2)},
...                      fixed={"dataset": "mnist-small", "epochs": 5}, trials=16)
>>> result.best_config

See docs/tune.md, and ``steepest tune --config search.toml`` for the command line.
"""

from .asha import EarlyStop, RungTable
from .driver import SearchResult, infer_mode, retrain_best, search
from .executors import default_n_jobs
from .objective import DEFAULTS as MLP_DEFAULTS
from .objective import MLPObjective, train_mlp
from .results import ResultsFile, ResultsMismatch, Table
from .space import (
    Choice,
    Domain,
    Fixed,
    LogUniform,
    RandInt,
    SearchSpace,
    SpaceError,
    Uniform,
    choice,
    fixed,
    loguniform,
    randint,
    uniform,
)
from .strategy import CoarseToFine, GridSearch, RandomSearch, Strategy, coarse_to_fine, grid
from .strategy import random as random_search
from .trial import MetricError, Reporter, TrialStopped

random = random_search  # ``tune.random()``: the name for random search

__all__ = [
    "search", "SearchResult", "retrain_best", "infer_mode",
    "loguniform", "uniform", "randint", "choice", "fixed",
    "Domain", "LogUniform", "Uniform", "RandInt", "Choice", "Fixed", "SearchSpace",
    "SpaceError", "random", "random_search", "grid", "coarse_to_fine", "Strategy",
    "RandomSearch", "GridSearch", "CoarseToFine", "EarlyStop", "RungTable",
    "train_mlp", "MLPObjective", "MLP_DEFAULTS", "Reporter", "TrialStopped", "MetricError",
    "ResultsFile", "ResultsMismatch", "Table", "default_n_jobs",
]
