"""The base every skrbm_impute imputer shares (private: not part of the public API).

Subclasses write only their algorithm: ``_fit(X, missing)`` and
``_impute(X, missing) -> values`` on already validated float arrays where
``missing`` is the boolean missing mask (True = missing, the paper's ``m``) and the
missing entries of ``X`` are NaN.  The base handles validation, the range check of
[0, 1]-valued models, feature names, tags and the guarantee that observed entries
come back bit-identical.  It is not exported: its hooks may change between
releases; a third-party imputer should derive from scikit-learn's
``TransformerMixin, BaseEstimator`` as the scikit-learn developer guide describes.
"""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ..utils._compat import _fit_context, validate_data
from ..utils._validation import check_unit_interval, resolve_image_shape, validate_params_subset


class BaseImputer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Base class for the package's imputers (NaN marks a missing entry); private.

    ``transform`` returns a new float array (float32 input stays float32, anything
    else -- float16 included, as in scikit-learn's PCA or KMeans -- becomes float64)
    whose observed entries are bit-identical to the input and
    whose missing entries are filled; the input is never modified.  Rows without a
    missing entry are returned as they are, without calling the model.  Columns that
    are entirely missing at ``fit`` are kept (images need their shape) and imputed by
    each algorithm's own rule.  Missing entries are NaN; in object-dtype input (a
    DataFrame or array of Python objects) ``None`` and ``pd.NA`` also mean missing.
    """

    _parameter_constraints: dict = {}

    #: Models of [0, 1]-valued data (RBMs, MisGAN) set this; observed values outside
    #: [0, 1] then raise a ValueError at fit and transform.
    _requires_unit_interval = False

    #: The parameters ``transform`` reads (rather than fitted attributes): checked again
    #: at each ``transform``, since ``set_params`` after ``fit`` is not validated.
    _transform_parameters: tuple = ()

    def _validate_input(self, X, *, reset):
        X = _object_missing_to_nan(X)
        X = validate_data(
            self,
            X,
            reset=reset,
            # float16 is upcast: sums over many rows overflow its range (max 65504).
            dtype=(np.float64, np.float32),
            ensure_all_finite="allow-nan",
            copy=True,
        )
        if not X.flags.writeable:  # pandas' nullable dtypes can come back read-only
            X = X.copy()
        if self._requires_unit_interval:
            check_unit_interval(X, type(self).__name__)
        return X, np.isnan(X)

    def _image_shape(self, n_features):
        """``(H, W)`` from the ``image_shape`` parameter (image estimators only)."""
        return resolve_image_shape(self.image_shape, n_features)

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
        """Fit the imputer on ``X`` (NaN = missing).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data with NaN for the missing entries.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The fitted imputer.
        """
        # An interrupted or failed fit leaves the estimator as it was: the previous
        # model, or an unfitted one (never fitted attributes of a half-done fit).
        before = dict(self.__dict__)
        try:
            X, missing = self._validate_input(X, reset=True)
            self._fit(X, missing)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(before)
            raise
        return self

    def transform(self, X):
        """Impute the missing (NaN) entries of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN for the missing entries.

        Returns
        -------
        X_imputed : ndarray of shape (n_samples, n_features)
            A new array: observed entries bit-identical to ``X``, no NaN.
        """
        X, missing = self._check_transform_input(X)
        rows = missing.any(axis=1)
        if rows.any():
            missing_rows = missing[rows]
            fill_rows(X, rows, missing_rows, self._impute(X[rows], missing_rows))
        return X

    def _check_transform_input(self, X):
        """What every method using a fitted model checks first: fitted, the parameters
        it reads valid, ``X`` valid; returns ``(X, missing)``."""
        check_is_fitted(self)
        if self._transform_parameters:
            validate_params_subset(self, self._transform_parameters)
        return self._validate_input(X, reset=False)

    def _fit(self, X, missing):  # pragma: no cover - abstract
        raise NotImplementedError

    def _impute(self, X, missing):  # pragma: no cover - abstract
        raise NotImplementedError

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


def fill_rows(X, rows, missing_rows, values):
    """Write the imputation of ``X[rows]`` into its missing entries, in place.

    Observed entries keep their bits.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Modified in place.
    rows : ndarray of bool of shape (n_samples,)
        The rows imputed.
    missing_rows : ndarray of bool of shape (n_rows, n_features)
        The missing mask of ``X[rows]``.
    values : array-like of shape (n_rows, n_features)
        The imputation of ``X[rows]``.
    """
    X_rows = X[rows]
    np.copyto(X_rows, np.asarray(values, dtype=X.dtype), where=missing_rows)
    X[rows] = X_rows


def _object_missing_to_nan(X):
    """``pd.NA`` and ``None`` in object-dtype input -> NaN (NumPy's float conversion
    rejects ``pd.NA``); other input is returned as it is, without a copy."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and hasattr(X, "isna"):  # a DataFrame
        if any(dtype == object for dtype in np.atleast_1d(dtypes)):
            X = X.astype(object).where(~X.isna(), np.nan)
        return X
    if isinstance(X, np.ndarray) and X.dtype == object:
        import pandas as pd

        return np.where(pd.isna(X), np.nan, X)
    return X
