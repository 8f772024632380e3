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
    """The feature extractor named by the preset's ``metrics.fid_features``.

    Parameters
    ----------
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).

    Returns
    -------
    features : str or callable
        ``"mnist-lenet"`` (28x28 images) or ``"inception"`` as given, the identity for
        ``"pixels"`` (the raw pixel vectors; any image size, e.g. the 8x8 digits), or
        the imported callable of ``"module:callable"``.
    """
    features = config["metrics"]["fid_features"]
    if features == "pixels":
        return _identity
    if isinstance(features, str) and ":" in features:
        return import_feature_callable(features)
    return features


def fid_reference(X_clean, config, image_shape):
    """Feature statistics of the clean test images (the FID's reference set).

    Parameters
    ----------
    X_clean : ndarray of shape (n_samples, n_pixels)
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).
    image_shape : tuple of int

    Returns
    -------
    reference : object
        What :func:`skrbm_impute.metrics.feature_statistics` returns.
    """
    from ..metrics import feature_statistics

    return feature_statistics(
        X_clean, features=fid_features(config), image_shape=tuple(image_shape),
        batch_size=config["metrics"]["fid_batch_size"], device=config["device"],
    )


def fid_to_reference(X_imputed, reference, config, image_shape):
    """FID between the imputed test images and the clean reference statistics.

    Parameters
    ----------
    X_imputed : ndarray of shape (n_samples, n_pixels)
    reference : object
        From :func:`fid_reference`.
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).
    image_shape : tuple of int

    Returns
    -------
    fid : float
    """
    from ..metrics import fid

    return fid(
        reference, X_imputed, features=fid_features(config), image_shape=tuple(image_shape),
        batch_size=config["metrics"]["fid_batch_size"], device=config["device"],
    )


def fit_classifier(X_train, y_train, config):
    """The downstream multinomial logistic regression, fit on (imputed) training data.

    lbfgs stops after the preset's ``metrics.classifier_max_iter`` iterations; its
    convergence warning is silenced (it would repeat for every cell).

    Parameters
    ----------
    X_train : ndarray of shape (n_samples, n_features)
    y_train : ndarray of shape (n_samples,)
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).

    Returns
    -------
    classifier : LogisticRegression
        Fitted.
    """
    classifier = LogisticRegression(max_iter=config["metrics"]["classifier_max_iter"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return classifier.fit(X_train, y_train)
