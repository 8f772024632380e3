"""The paper's measures: RMSE, FID and downstream accuracy, and search scorers.

- :func:`rmse`: average per-image RMSE over the missing entries (or pooled).
- :func:`fid`: Fréchet distance of feature statistics (pytorch-fid's formula), with
  the bundled MNIST LeNet (``"mnist-lenet"``), pytorch-fid's InceptionV3
  (``"inception"``, :class:`InceptionFeatures`), a torch module, a fitted transformer
  or a callable as features; :func:`feature_statistics` computes a reference set's
  statistics once for reuse.
- :func:`downstream_accuracy`, :func:`hidden_accuracy`: logistic-regression accuracy
  on imputed data and on an RBM's ``transform_hidden`` features.
- :func:`interval_coverage`: calibration of multiple imputations (per-entry intervals).
- :class:`MaskedRMSEScorer`, :class:`FIDScorer`: ``scoring=`` callables for
  ``GridSearchCV`` / ``cross_validate`` (also inside a Pipeline).
"""

from ._coverage import interval_coverage
from ._downstream import downstream_accuracy, hidden_accuracy
from ._features import FeatureStatistics, InceptionFeatures, feature_statistics
from ._fid import fid, frechet_distance
from ._lenet import MNISTLeNet, load_mnist_lenet, mnist_lenet_info
from ._rmse import rmse
from ._scorers import FIDScorer, MaskedRMSEScorer

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
