"""Fréchet distance between the feature statistics of two image sets."""

import warnings

import numpy as np

from ._features import DEFAULT_BATCH_SIZE, FeatureStatistics, feature_statistics


def frechet_distance(statistics_a, statistics_b):
    """Fréchet distance between two Gaussians ``(mu, sigma)``.

    Computed by ``pytorch_fid.fid_score.calculate_frechet_distance`` (which adds
    1e-6 to the covariance diagonals when their product is singular and drops a
    negligible imaginary part).  Rounding can make the distance of a set to itself
    a tiny negative number; it is clipped at 0 (the true distance is non-negative).
    """
    from pytorch_fid.fid_score import calculate_frechet_distance

    mu_a, sigma_a = (np.asarray(v, dtype=np.float64) for v in statistics_a)
    mu_b, sigma_b = (np.asarray(v, dtype=np.float64) for v in statistics_b)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise ValueError(
            f"The two sets have features of different sizes: mean {mu_a.shape} and "
            f"{mu_b.shape}, covariance {sigma_a.shape} and {sigma_b.shape}."
        )
    with warnings.catch_warnings():
        # pytorch-fid calls scipy's sqrtm(disp=False), deprecated in SciPy 1.17.
        warnings.simplefilter("ignore", DeprecationWarning)
        distance = calculate_frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
    return max(float(distance), 0.0)


def fid(X_a, X_b, *, features="mnist-lenet", image_shape=None,
        batch_size=DEFAULT_BATCH_SIZE, device="cpu"):
    """Fréchet Inception Distance (or its MNIST-LeNet analogue) between two image sets.

    The squared Fréchet distance between Gaussians fitted to the features of each
    set: ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``.  Lower is better;
    the function is symmetric in its arguments.

    Parameters
    ----------
    X_a, X_b : array-like of shape (n, n_features) or FeatureStatistics
        Complete (NaN-free) images as rows, or precomputed statistics of a set
        (see :func:`feature_statistics`; they must come from the same ``features``).
        The two sets may differ in size.
    features : {"mnist-lenet", "inception"}, InceptionFeatures, torch module, \
            transformer or callable, default="mnist-lenet"
        Feature extractor; see :func:`feature_statistics`.  ``"mnist-lenet"`` is the
        MisGAN MNIST network whose weights ship with the package: fc1 before its
        ReLU, on raw [0, 1] images although it was trained on normalised ones, as in
        MisGAN's FID (which puts the values on the scale of the paper's Table 1).
    image_shape : tuple (height, width) or None, default=None
        Image shape for the networks; ``None`` means square images.
    batch_size : int, default=256
        Images per forward pass (memory stays bounded for any number of images).
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the networks run.

    Returns
    -------
    distance : float
        The Fréchet distance (>= 0).

    Examples
    --------
    >>> from skrbm_impute.datasets import load_mnist_sample
    >>> from skrbm_impute.metrics import feature_statistics, fid
    >>> X, _ = load_mnist_sample()
    >>> reference = feature_statistics(X[::2])
    >>> fid(reference, X[1::2]) < fid(reference, 0.5 * X[1::2])
    True
    """
    statistics = [
        X if isinstance(X, FeatureStatistics) else feature_statistics(
            X, features=features, image_shape=image_shape, batch_size=batch_size,
            device=device)
        for X in (X_a, X_b)
    ]
    return frechet_distance(*statistics)
