"""Calibration of multiple imputations: coverage of per-entry intervals."""

import numpy as np
from sklearn.utils import check_array


def interval_coverage(X_true, draws, missing, *, level=0.9, return_width=False):
    """Fraction of missing entries whose true value lies in the draws' central interval.

    For every missing entry the interval runs from the ``(1 - level) / 2`` to the
    ``(1 + level) / 2`` quantile of its draws (``numpy.quantile``, linear
    interpolation between order statistics; 5 % and 95 % for ``level=0.9``), closed
    at both ends.  A calibrated imputer covers ``level`` of the entries.

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        The clean data; finite at the missing entries.
    draws : array-like of shape (n_imputations, n_samples, n_features)
        Several imputations of the same data (``sample_imputations``); at least 2.
    missing : array-like of bool, shape (n_samples, n_features)
        True where an entry was missing; only those entries count.
    level : float in (0, 1), default=0.9
        Nominal coverage of the interval.
    return_width : bool, default=False
        Also return the mean interval width over the missing entries.

    Returns
    -------
    coverage : float
        Fraction of the missing entries inside their interval.
    width : float
        The mean interval width over the missing entries; only with
        ``return_width=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute.metrics import interval_coverage
    >>> draws = np.array([[[0.0, 0.2]], [[0.5, 0.4]], [[1.0, 0.6]]])
    >>> float(interval_coverage([[0.5, 0.9]], draws, [[True, True]]))
    0.5
    """
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1); got {level!r}.")
    X_true = check_array(X_true, dtype=np.float64, ensure_all_finite=False)
    draws = np.asarray(draws, dtype=np.float64)
    missing = np.asarray(missing, dtype=bool)
    if draws.ndim != 3 or draws.shape[1:] != X_true.shape or missing.shape != X_true.shape:
        raise ValueError(
            "draws must have shape (n_imputations, *X_true.shape) and missing X_true's shape "
            f"{X_true.shape}; got {draws.shape} and {missing.shape}."
        )
    if draws.shape[0] < 2:
        raise ValueError(f"need at least 2 imputations for an interval; got {draws.shape[0]}.")
    if not missing.any():
        raise ValueError("missing marks no entry: there is nothing to cover.")
    values = draws[:, missing]
    truth = X_true[missing]
    if not (np.isfinite(values).all() and np.isfinite(truth).all()):
        raise ValueError("X_true and draws must be finite at the missing entries.")
    low, high = np.quantile(values, [(1 - level) / 2, (1 + level) / 2], axis=0)
    coverage = float(np.mean((truth >= low) & (truth <= high)))
    if return_width:
        return coverage, float(np.mean(high - low))
    return coverage
