"""Scorers for GridSearchCV / cross_validate on incomplete data without ground truth.

Both are plain callables ``scorer(estimator, X, y=None) -> float`` (higher is better)
as scikit-learn's ``scoring=`` accepts; ``make_scorer`` cannot wrap ``transform``.
They work single-metric (``scoring=MaskedRMSEScorer()``) and in a multi-metric dict
(``scoring={"rmse": MaskedRMSEScorer(), "accuracy": "accuracy"}``).
"""

import numpy as np
from sklearn.utils import check_array, check_random_state

from ._estimators import split_at_step
from ._features import (
    DEFAULT_BATCH_SIZE,
    FeatureStatistics,
    InceptionFeatures,
    feature_statistics,
)
from ._fid import frechet_distance
from ._rmse import rmse


class MaskedRMSEScorer:
    """Hide some observed entries, impute them, return minus their RMSE.

    At each call a fixed fraction of the *observed* (non-NaN) entries of ``X`` is set
    to NaN, the fitted imputer fills them, and the score is ``-rmse`` over those
    hidden entries (:func:`rmse`).  With an integer ``random_state`` the same entries
    are hidden for every candidate scored on the same ``X``, so candidates compete on
    identical holes.

    In a Pipeline, the steps before the imputer transform both the hidden copy and
    the original ``X``, and the error is measured in the imputer's input space (for
    example after a ``MinMaxScaler``); those steps must keep the features one to one.

    Parameters
    ----------
    fraction : float in (0, 1), default=0.1
        Fraction of the observed entries to hide (``round(fraction * n_observed)``,
        at least one is required, else ``ValueError``).
    random_state : int, RandomState or None, default=0
        Chooses the hidden entries.  Use an int: a RandomState instance advances
        between calls, giving each candidate different holes.
    step : str, int or None, default=None
        The imputer's name or index in a Pipeline; ``None`` takes the first
        imputer (a skrbm_impute or scikit-learn imputer) of a Pipeline, or the
        estimator itself.
    pooled : bool, default=False
        As in :func:`rmse`: ``False`` averages per-image RMSEs (rows where nothing
        was hidden are skipped), ``True`` is one RMSE over all hidden entries.

    Examples
    --------
    >>> from sklearn.model_selection import GridSearchCV
    >>> from skrbm_impute import DiffusionInpaintImputer, independent_mask, apply_mask
    >>> from skrbm_impute.datasets import load_digits_01
    >>> from skrbm_impute.metrics import MaskedRMSEScorer
    >>> X, _ = load_digits_01()
    >>> X_missing = apply_mask(X[:300], independent_mask(300, (8, 8), 0.3, random_state=0))
    >>> search = GridSearchCV(DiffusionInpaintImputer(), {"n_iter": [1, 50]},
    ...                       scoring=MaskedRMSEScorer(), cv=3).fit(X_missing)
    >>> search.best_params_
    {'n_iter': 50}
    """

    def __init__(self, fraction=0.1, random_state=0, step=None, pooled=False):
        self.fraction = fraction
        self.random_state = random_state
        self.step = step
        self.pooled = pooled

    def __repr__(self):
        return (f"MaskedRMSEScorer(fraction={self.fraction!r}, random_state="
                f"{self.random_state!r}, step={self.step!r}, pooled={self.pooled!r})")

    def hide(self, X):
        """The NaN copy of ``X`` and the boolean mask of the entries hidden in it.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data with NaN marking missing entries.

        Returns
        -------
        X_hidden : ndarray of shape (n_samples, n_features)
            A copy of ``X`` with ``fraction`` of its observed entries set to NaN too.
        hidden : ndarray of bool, shape (n_samples, n_features)
            True at the entries hidden here.
        """
        if not 0 < self.fraction < 1:
            raise ValueError(f"fraction must be in (0, 1); got {self.fraction!r}.")
        X = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
        observed = np.flatnonzero(~np.isnan(X))
        n_hidden = int(round(self.fraction * observed.size))
        if n_hidden < 1:
            raise ValueError(
                f"fraction={self.fraction} of the {observed.size} observed entries hides "
                "no entry; score on more data or raise fraction."
            )
        rng = check_random_state(self.random_state)
        hidden = np.zeros(X.shape, dtype=bool)
        hidden.flat[rng.choice(observed, n_hidden, replace=False)] = True
        X_hidden = X.copy()
        X_hidden[hidden] = np.nan
        return X_hidden, hidden

    def __call__(self, estimator, X, y=None):
        """Minus the RMSE of ``estimator``'s imputation of hidden observed entries."""
        X_hidden, hidden = self.hide(X)
        preprocess, imputer = split_at_step(estimator, self.step, "transform")
        X_values = check_array(X, dtype=np.float64, ensure_all_finite="allow-nan")
        X_truth = np.asarray(preprocess(_like(X, X_values)), dtype=np.float64)
        X_imputed = imputer.transform(preprocess(_like(X, X_hidden)))
        if X_truth.shape != hidden.shape or np.shape(X_imputed) != hidden.shape:
            raise ValueError(
                "The imputer's input and output must keep X's shape "
                f"{hidden.shape} (got {X_truth.shape} and {np.shape(X_imputed)}); the "
                "Pipeline steps before it must not drop, add or reorder features."
            )
        return -rmse(X_truth, X_imputed, hidden, pooled=self.pooled)


class FIDScorer:
    """Impute ``X`` and return minus its FID to a reference set.

    Parameters
    ----------
    reference : array-like of shape (n_ref, n_features) or FeatureStatistics
        Complete reference images (for example the clean training digits) in the
        imputer's output space, or their precomputed statistics.  Images are turned
        into statistics once, here, so the scorer pickles cheaply to parallel workers.
    features : str, InceptionFeatures, torch module, transformer or callable, \
            default="mnist-lenet"
        The feature extractor, as in :func:`fid`.
    image_shape : tuple (height, width) or None, default=None
        As in :func:`fid`.
    batch_size : int, default=256
        As in :func:`fid`.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        As in :func:`fid`.
    step : str, int or None, default=None
        The imputer in a Pipeline, as in :class:`MaskedRMSEScorer`.

    Attributes
    ----------
    reference_statistics_ : FeatureStatistics
        The reference's feature mean and covariance.

    Examples
    --------
    >>> from sklearn.decomposition import PCA
    >>> from skrbm_impute import MeanImputer, apply_mask, independent_mask
    >>> from skrbm_impute.datasets import load_digits_01
    >>> from skrbm_impute.metrics import FIDScorer
    >>> X, _ = load_digits_01()
    >>> X_missing = apply_mask(X, independent_mask(len(X), (8, 8), rate=0.5, random_state=0))
    >>> features = PCA(n_components=10, random_state=0).fit(X[:900])  # any fitted transformer
    >>> scorer = FIDScorer(X[:900], features=features)
    >>> imputer = MeanImputer().fit(X_missing[:900])
    >>> scorer(imputer, X_missing[900:]) < 0  # minus the FID: greater is better
    True
    """

    def __init__(self, reference, features="mnist-lenet", image_shape=None,
                 batch_size=DEFAULT_BATCH_SIZE, device="cpu", step=None):
        self.features = features
        self.image_shape = image_shape
        self.batch_size = batch_size
        self.device = device
        self.step = step
        # One InceptionFeatures instance keeps its network loaded between calls.
        is_inception = isinstance(features, str) and features == "inception"
        self._features = InceptionFeatures() if is_inception else features
        self.reference_statistics_ = (
            reference if isinstance(reference, FeatureStatistics)
            else feature_statistics(reference, features=self._features,
                                    image_shape=image_shape, batch_size=batch_size,
                                    device=device)
        )

    def __repr__(self):
        return (f"FIDScorer(features={self.features!r}, image_shape={self.image_shape!r}, "
                f"step={self.step!r})")

    def __call__(self, estimator, X, y=None):
        """Minus the FID between ``estimator``'s imputation of ``X`` and the reference."""
        preprocess, imputer = split_at_step(estimator, self.step, "transform")
        X_imputed = imputer.transform(preprocess(X))
        statistics = feature_statistics(
            X_imputed, features=self._features, image_shape=self.image_shape,
            batch_size=self.batch_size, device=self.device)
        return -frechet_distance(statistics, self.reference_statistics_)


def _like(X, values):
    """``values`` as a DataFrame with ``X``'s columns when ``X`` is one (keeps the
    feature names a Pipeline fitted on a DataFrame expects), else as they are."""
    if hasattr(X, "columns") and hasattr(X, "index"):
        return type(X)(values, index=X.index, columns=X.columns)
    return values
