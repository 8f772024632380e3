"""Input checks shared by every imputer and by the metrics."""

import math
from numbers import Integral

import numpy as np


def resolve_image_shape(image_shape, n_features):
    """Return ``(H, W)`` for ``n_features`` pixels.

    ``None`` means a square image; a ``ValueError`` names the problem when
    ``n_features`` is not a perfect square or does not equal ``H * W``.
    """
    if image_shape is None:
        side = math.isqrt(int(n_features))
        if side * side != n_features:
            raise ValueError(
                f"image_shape=None needs square images, but n_features={n_features} is not "
                "a perfect square; pass image_shape=(height, width)."
            )
        return side, side
    if len(image_shape) != 2 or not all(
        isinstance(s, Integral) and s >= 1 for s in image_shape
    ):
        raise ValueError(
            f"image_shape must be a pair of positive integers (height, width); got {image_shape!r}."
        )
    height, width = int(image_shape[0]), int(image_shape[1])
    if height * width != n_features:
        raise ValueError(
            f"image_shape={tuple(image_shape)} holds {height * width} pixels, but X has "
            f"{n_features} features."
        )
    return height, width


def check_unit_interval(X, estimator_name="this estimator"):
    """Raise ``ValueError`` when an observed (non-NaN) entry lies outside [0, 1]."""
    observed = X[~np.isnan(X)]
    if observed.size and (observed.min() < 0 or observed.max() > 1):
        raise ValueError(
            f"{estimator_name} models values in [0, 1], but X has observed values in "
            f"[{observed.min():.4g}, {observed.max():.4g}]; rescale first (for example "
            "MinMaxScaler in a Pipeline)."
        )


def check_random_seed(random_state):
    """Draw one integer seed from a ``random_state`` (int, RandomState or None)."""
    from sklearn.utils import check_random_state

    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))
