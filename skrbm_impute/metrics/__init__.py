"""The paper's measures: RMSE, FID and downstream accuracy, and search scorers.

- :func:`rmse`: average per-image RMSE over the missing entries (or pooled).
- :func:`fid`: Fréchet distance of feature statistics (pytorch-fid's formula), with
  the bundled MNIST LeNet (``"mnist-lenet"``), pytorch-fid's InceptionV3
  (``"inception"``, :class:`InceptionFeatures`), a torch module, a fitted transformer
  or a callable as features; :func:`feature_statistics` computes a reference set's
  statistics once for reuse; :func:`frechet_distance` works on ``(mu, sigma)`` pairs.
- :func:`downstream_accuracy`, :func:`hidden_accuracy`: logistic-regression accuracy
  on imputed data and on an RBM's ``transform_hidden`` features.
- :func:`interval_coverage`: calibration of multiple imputations (per-entry intervals).
- :class:`MaskedRMSEScorer`, :class:`FIDScorer`: ``scoring=`` callables for
  ``GridSearchCV`` / ``cross_validate`` (also inside a Pipeline).

The names that need torch (FID, features, the LeNet and the scorers) are imported on
first access.
"""

from ..utils._lazy import lazy_exports
from ._coverage import interval_coverage
from ._downstream import downstream_accuracy, hidden_accuracy
from ._rmse import rmse

__all__ = [
    "FIDScorer",
    "FeatureStatistics",
    "InceptionFeatures",
    "MNISTLeNet",
    "MaskedRMSEScorer",
    "downstream_accuracy",
    "feature_statistics",
    "fid",
    "frechet_distance",
    "hidden_accuracy",
    "interval_coverage",
    "load_mnist_lenet",
    "mnist_lenet_info",
    "rmse",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "FIDScorer": "._scorers",
        "MaskedRMSEScorer": "._scorers",
        "FeatureStatistics": "._features",
        "InceptionFeatures": "._features",
        "feature_statistics": "._features",
        "fid": "._fid",
        "frechet_distance": "._fid",
        "MNISTLeNet": "._lenet",
        "load_mnist_lenet": "._lenet",
        "mnist_lenet_info": "._lenet",
    },
    eager=__all__,
)
