"""Root-mean-square error over the missing entries."""

import numpy as np
from sklearn.utils import check_array


def rmse(X_true, X_imputed, missing, *, pooled=False):
    """The paper's "average image per-pixel RMSE" over the missing entries.

    For each image (row) the RMSE over its missing entries; then the mean over the
    images that have at least one missing entry (rows without one are skipped).

    Parameters
    ----------
    X_true : array-like of shape (n_samples, n_features)
        The clean data; it must be finite at the missing entries.
    X_imputed : array-like of shape (n_samples, n_features)
        The imputed data; it must be finite at the missing entries.
    missing : array-like of bool, shape (n_samples, n_features)
        True where an entry was missing (and imputed).  Entries where it is False are
        ignored in both arrays.
    pooled : bool, default=False
        If True, one RMSE over all missing entries together (rows with many missing
        entries weigh more).

    Returns
    -------
    error : float
        The mean per-image RMSE (or the pooled RMSE).

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute.metrics import rmse
    >>> X_true = np.array([[0.0, 1.0], [0.5, 0.5]])
    >>> X_imputed = np.array([[0.0, 0.0], [0.5, 0.5]])
    >>> missing = np.array([[False, True], [True, True]])
    >>> float(rmse(X_true, X_imputed, missing))  # rows: 1.0 and 0.0
    0.5
    """
    X_true = check_array(X_true, dtype=np.float64, ensure_all_finite=False)
    X_imputed = check_array(X_imputed, dtype=np.float64, ensure_all_finite=False)
    missing = check_array(missing, dtype=None, ensure_all_finite=False)
    if missing.dtype != bool:
        raise TypeError(
            f"missing must be a boolean mask (True = missing); got dtype {missing.dtype}.")
    if not X_true.shape == X_imputed.shape == missing.shape:
        raise ValueError(
            f"X_true {X_true.shape}, X_imputed {X_imputed.shape} and missing "
            f"{missing.shape} must have the same shape."
        )
    if not missing.any():
        raise ValueError("missing has no True entry: the RMSE over missing entries is undefined.")
    for name, values in (("X_true", X_true), ("X_imputed", X_imputed)):
        if not np.isfinite(values[missing]).all():
            raise ValueError(f"{name} has NaN or infinite values at missing entries.")
    squared = np.where(missing, X_true - X_imputed, 0.0) ** 2
    if pooled:
        return float(np.sqrt(squared.sum() / missing.sum()))
    counts = missing.sum(axis=1)
    rows = counts > 0
    return float(np.mean(np.sqrt(squared[rows].sum(axis=1) / counts[rows])))
