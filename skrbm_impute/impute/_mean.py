"""Mean imputation: each feature's observed mean over the training set."""

from numbers import Real

import numpy as np

from ..utils._validation import StrictInterval
from ._base import BaseImputer


def observed_mean(X, missing, fill_value=0.0):
    """Per-feature mean of the observed entries; ``fill_value`` where none is observed.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        The data (the missing entries' values are ignored).
    missing : ndarray of bool of shape (n_samples, n_features)
        The missing mask.
    fill_value : float, default=0.0
        The mean of a feature with no observed entry.

    Returns
    -------
    means : ndarray of shape (n_features,)
        Float64.
    """
    counts = (~missing).sum(axis=0)
    sums = np.where(missing, 0.0, X).sum(axis=0)
    means = np.full(X.shape[1], float(fill_value))
    np.divide(sums, counts, out=means, where=counts > 0)
    return means


class MeanImputer(BaseImputer):
    """Replace each missing entry with its feature's observed training mean.

    The paper's "observed mean across the training set" baseline.  Unlike
    :class:`sklearn.impute.SimpleImputer`, features never observed in training are
    kept (images need their shape) and get ``fill_value``.

    Parameters
    ----------
    fill_value : float, default=0.0
        Value for features with no observed entry during ``fit``; must be finite
        (NaN would come back as a "filled" entry).

    Attributes
    ----------
    statistics_ : ndarray of shape (n_features,)
        The value each feature's missing entries receive.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import MeanImputer
    >>> X = np.array([[0.0, np.nan], [1.0, 0.5], [np.nan, 0.7]])
    >>> MeanImputer().fit_transform(X)
    array([[0. , 0.6],
           [1. , 0.5],
           [0.5, 0.7]])
    """

    # closed="neither" on an unbounded interval: every finite real, never NaN or inf.
    _parameter_constraints: dict = {
        "fill_value": [StrictInterval(Real, None, None, closed="neither")]
    }

    def __init__(self, *, fill_value=0.0):
        self.fill_value = fill_value

    def _fit(self, X, missing):
        self.statistics_ = observed_mean(X, missing, self.fill_value)

    def _impute(self, X, missing):
        return np.broadcast_to(self.statistics_, X.shape)
