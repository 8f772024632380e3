"""Fréchet distance between the feature statistics of two image sets."""

import numpy as np
import scipy.linalg

from ._features import DEFAULT_BATCH_SIZE, FeatureStatistics, feature_statistics

#: Added to both covariance diagonals when the product is singular (pytorch-fid's ``eps``).
SINGULAR_EPS = 1e-6


def frechet_distance(statistics_a, statistics_b):
    """Fréchet distance between two Gaussians ``(mu, sigma)``.

    ``|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2))``, computed as pytorch-fid's
    ``calculate_frechet_distance`` does (Dougal Sutherland's stable version): when the
    matrix square root of ``S_a S_b`` is not finite, 1e-6 is added to both covariance
    diagonals; a negligible imaginary part of the root is dropped.  This is our own copy
    of that formula on ``scipy.linalg.sqrtm``'s current signature (pytorch-fid 0.3
    calls ``sqrtm(..., disp=False)``, which SciPy 1.18 removes); the test suite checks
    it against pytorch-fid wherever SciPy still accepts that call.  Nothing global is
    patched, so concurrent calls from threads are safe.  SciPy's ``LinAlgWarning`` on a
    singular product is left visible.  Rounding can make
    the distance of a set to itself a tiny negative number; it is clipped at 0.

    Parameters
    ----------
    statistics_a, statistics_b : FeatureStatistics or tuple (mu, sigma)
        Mean vectors of shape (d,) and covariance matrices of shape (d, d).

    Returns
    -------
    distance : float
        The squared Fréchet distance (>= 0).

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute.metrics import frechet_distance
    >>> frechet_distance((np.zeros(2), np.eye(2)), (np.ones(2), np.eye(2)))
    2.0
    >>> frechet_distance((np.zeros(1), 4 * np.eye(1)), (np.zeros(1), np.eye(1)))
    1.0
    """
    mu_a, sigma_a = (np.asarray(v, dtype=np.float64) for v in statistics_a)
    mu_b, sigma_b = (np.asarray(v, dtype=np.float64) for v in statistics_b)
    mu_a, mu_b = np.atleast_1d(mu_a), np.atleast_1d(mu_b)
    sigma_a, sigma_b = np.atleast_2d(sigma_a), np.atleast_2d(sigma_b)
    if mu_a.shape != mu_b.shape or sigma_a.shape != sigma_b.shape:
        raise ValueError(
            f"The two sets have features of different sizes: mean {mu_a.shape} and "
            f"{mu_b.shape}, covariance {sigma_a.shape} and {sigma_b.shape}."
        )
    diff = mu_a - mu_b
    covmean = scipy.linalg.sqrtm(sigma_a @ sigma_b)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma_a)) * SINGULAR_EPS
        covmean = scipy.linalg.sqrtm((sigma_a + offset) @ (sigma_b + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(
                "The square root of the covariance product has a large imaginary part "
                f"({np.max(np.abs(covmean.imag)):.3g}); the statistics are not valid "
                "covariances."
            )
        covmean = covmean.real
    distance = diff @ diff + np.trace(sigma_a) + np.trace(sigma_b) - 2 * np.trace(covmean)
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
    >>> reference = feature_statistics(X[:1000:2])
    >>> fid(reference, X[1:1000:2]) < fid(reference, 0.5 * X[1:1000:2])
    True
    """
    statistics = [
        X if isinstance(X, FeatureStatistics) else feature_statistics(
            X, features=features, image_shape=image_shape, batch_size=batch_size,
            device=device)
        for X in (X_a, X_b)
    ]
    return frechet_distance(*statistics)
