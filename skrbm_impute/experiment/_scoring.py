"""The benchmark's metrics, computed with :mod:`skrbm_impute.metrics`.

The clean test set's feature statistics are computed once per run and shared by
every cell; the downstream classifier of a cell is fit once on its imputed training
set and scored on each of its test repeats (the recipe of
:func:`skrbm_impute.metrics.downstream_accuracy`, without refitting per test set).
"""

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from ._methods import import_feature_callable


def _identity(X):
    return np.asarray(X, dtype=np.float64)


def fid_features(config):
    """The preset's ``metrics.fid_features``: ``"mnist-lenet"`` (28x28 images),
    ``"inception"``, ``"pixels"`` (the raw pixel vectors; any image size, e.g. the 8x8
    digits) or ``"module:callable"`` mapping rows to features."""
    features = config["metrics"]["fid_features"]
    if features == "pixels":
        return _identity
    if isinstance(features, str) and ":" in features:
        return import_feature_callable(features)
    return features


def fid_reference(X_clean, config, image_shape):
    """Feature statistics of the clean test images (the FID's reference set)."""
    from ..metrics import feature_statistics

    return feature_statistics(
        X_clean, features=fid_features(config), image_shape=tuple(image_shape),
        batch_size=config["metrics"]["fid_batch_size"], device=config["device"],
    )


def fid_to_reference(X_imputed, reference, config, image_shape):
    """FID between the imputed test images and the clean reference statistics."""
    from ..metrics import fid

    return fid(
        reference, X_imputed, features=fid_features(config), image_shape=tuple(image_shape),
        batch_size=config["metrics"]["fid_batch_size"], device=config["device"],
    )


def fit_classifier(X_train, y_train, config):
    """The downstream multinomial logistic regression, fit on (imputed) training data.

    lbfgs stops after the preset's ``metrics.classifier_max_iter`` iterations; its
    convergence warning is silenced (it would repeat for every cell).
    """
    classifier = LogisticRegression(max_iter=config["metrics"]["classifier_max_iter"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier.fit(X_train, y_train)
