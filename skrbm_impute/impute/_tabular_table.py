"""Reading a mixed table for :class:`TabularRBMImputer` (private).

A table is split into its real-valued columns (a float array, NaN = missing) and its
categorical columns (one object array of values per column, with their missing mask);
categories are learned at ``fit`` and values are encoded as category indices.
"""

from numbers import Integral, Real

import numpy as np
import pandas as pd
from sklearn.utils import check_array

from ._base import _object_missing_to_nan


def is_dataframe(X):
    """Whether ``X`` is a pandas DataFrame."""
    return isinstance(X, pd.DataFrame)


def resolve_categorical(spec, X, n_features, feature_names, caller):
    """The boolean mask of the categorical columns that ``categorical_features`` names.

    Parameters
    ----------
    spec : None, "from_dtype", or array-like of int, bool or str
        The parameter.
    X : array-like
        The training data (read for the dtypes of ``"from_dtype"``).
    n_features : int
        Its number of columns.
    feature_names : ndarray of str or None
        Its column names, when it is a DataFrame with string column names.
    caller : str
        The estimator's name, for the messages.

    Returns
    -------
    mask : ndarray of bool of shape (n_features,)
        True on the categorical columns.
    """
    mask = np.zeros(n_features, dtype=bool)
    if spec is None:
        return mask
    if isinstance(spec, str):  # "from_dtype" (the parameter constraints allow no other)
        if is_dataframe(X):
            mask[:] = [isinstance(dtype, pd.CategoricalDtype) for dtype in X.dtypes]
        return mask
    values = np.asarray(spec)
    if values.size == 0:
        return mask
    if values.ndim != 1:
        raise ValueError(f"{caller}: categorical_features must be one-dimensional; got "
                         f"shape {values.shape}.")
    if values.dtype.kind == "b":
        if values.shape[0] != n_features:
            raise ValueError(
                f"{caller}: categorical_features as a boolean mask needs one entry per "
                f"feature ({n_features}); got {values.shape[0]}.")
        return values.copy()
    if values.dtype.kind in "iu":
        bad = [int(i) for i in values if not 0 <= i < n_features]
        if bad:
            raise ValueError(
                f"{caller}: categorical_features holds indices outside [0, {n_features - 1}]"
                f": {bad}.")
        mask[values] = True
        return mask
    if values.dtype.kind in "OUS" and all(isinstance(v, str) for v in values):
        if feature_names is None:
            raise ValueError(
                f"{caller}: categorical_features names features ({list(values)}), but X "
                "has no feature names; pass a DataFrame with string column names, or "
                "indices.")
        position = {name: i for i, name in enumerate(feature_names)}
        unknown = [str(v) for v in values if v not in position]
        if unknown:
            raise ValueError(f"{caller}: categorical_features names features that X does "
                             f"not have: {unknown}.")
        mask[[position[v] for v in values]] = True
        return mask
    raise ValueError(
        f"{caller}: categorical_features must be None, 'from_dtype', or an array of "
        f"indices, booleans or feature names; got {spec!r}.")


def check_2d(X):
    """``X`` as a 2-D array or DataFrame, refusing what scikit-learn refuses (1-D,
    sparse, empty, complex); values are not converted."""
    if is_dataframe(X):
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"Found array with shape {X.shape}; a minimum of 1 sample "
                             "and 1 feature is required.")
        return X
    return check_array(X, dtype=None, ensure_all_finite=False)


def column(X, j):
    """Column ``j`` of a 2-D array or DataFrame, as an object-or-number ndarray."""
    if is_dataframe(X):
        return X.iloc[:, j].to_numpy(dtype=object)
    return np.asarray(X)[:, j]


def numeric_part(X, columns):
    """The real-valued ``columns`` of ``X`` as a float array with NaN for the missing
    entries (``None`` and ``pd.NA`` included); inf refused."""
    if len(columns) == 0:
        return np.empty((X.shape[0], 0))
    part = X.iloc[:, columns] if is_dataframe(X) else np.asarray(X)[:, columns]
    part = _object_missing_to_nan(part)
    return check_array(part, dtype=(np.float64, np.float32), ensure_all_finite="allow-nan",
                       ensure_min_features=0, copy=True)


def categorical_values(values, name, caller):
    """``(values, missing)``: a categorical column's values and their missing mask
    (NaN, ``None``, ``pd.NA``); infinite numbers refused."""
    missing = np.asarray(pd.isna(values), dtype=bool)
    observed = values[~missing]
    if observed.dtype.kind == "f" or observed.dtype == object:
        numbers = [v for v in observed if isinstance(v, Real) and not isinstance(v, bool)]
        if numbers and not np.isfinite(np.asarray(numbers, dtype=float)).all():
            raise ValueError(f"{caller}: Input X contains infinity in the categorical "
                             f"feature {name!r}.")
    return values, missing


def learn_categories(values, missing, dtype):
    """The categories of a column in fit: those of its pandas dtype that occur, in the
    dtype's order, else the sorted distinct observed values (in order of first
    occurrence when they do not sort)."""
    observed = values[~missing]
    if isinstance(dtype, pd.CategoricalDtype):
        present = set(pd.unique(observed))
        return np.asarray([c for c in dtype.categories if c in present], dtype=object)
    if observed.dtype.kind in "fiu" or all(
            isinstance(v, Real) and not isinstance(v, bool) for v in observed):
        return np.unique(np.asarray(observed, dtype=float))
    distinct = pd.unique(observed)
    try:
        return np.asarray(sorted(distinct), dtype=object)
    except TypeError:
        return np.asarray(distinct, dtype=object)


def encode(values, missing, categories, name, caller):
    """Category indices (-1 where missing); an unseen category raises a ValueError."""
    codes = np.full(values.shape[0], -1, dtype=np.int64)
    observed = values[~missing]
    if observed.size:
        found = pd.Index(categories).get_indexer(pd.Index(observed, dtype=object))
        if (found < 0).any():
            unseen = list(pd.unique(observed[found < 0]))[:5]
            raise ValueError(
                f"{caller}: the categorical feature {name!r} holds categories not seen "
                f"in fit: {unseen}; categories seen: {list(categories)[:20]}.")
        codes[~missing] = found
    return codes


def categories_are_numbers(categories):
    """Whether every category is a real number (the output can stay a float array)."""
    return np.asarray(categories).dtype.kind in "fiu" or all(
        isinstance(c, (Real, Integral)) and not isinstance(c, bool) for c in categories)
