"""Missingness mechanisms of the paper (I.M., S.O., P.M.) and masking helpers.

Every mechanism returns a boolean array of shape ``(n_images, H * W)`` with True
where a pixel is missing, exactly reproducible for a given ``random_state``.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

MECHANISMS = ("IM", "SO", "PM")


def _check_rate(rate):
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"rate must be a missing fraction in [0, 1]; got {rate!r}.")


def _check_shape(n_images, image_shape):
    if not isinstance(n_images, Integral) or n_images < 0:
        raise ValueError(f"n_images must be a non-negative integer; got {n_images!r}.")
    height, width = image_shape
    if height < 1 or width < 1:
        raise ValueError(f"image_shape must be positive; got {image_shape!r}.")
    return int(height), int(width)


def independent_mask(n_images, image_shape=(28, 28), rate=0.5, random_state=None):
    """I.M.: each pixel is missing independently with probability ``rate``."""
    _check_rate(rate)
    height, width = _check_shape(n_images, image_shape)
    rng = check_random_state(random_state)
    return rng.random_sample((n_images, height * width)) < rate


def square_observation_mask(n_images, image_shape=(28, 28), rate=0.5, random_state=None):
    """S.O.: everything is missing except one observed square placed uniformly at random.

    The square's side is ``round(sqrt((1 - rate) * H * W))``, clipped to the image, so
    the realised missing fraction is ``1 - side**2 / (H * W)`` (the same for every
    image; MisGAN's ``BlockMaskedMNIST``).
    """
    _check_rate(rate)
    height, width = _check_shape(n_images, image_shape)
    rng = check_random_state(random_state)
    side = min(int(round(math.sqrt((1.0 - rate) * height * width))), height, width)
    mask = np.ones((n_images, height, width), dtype=bool)
    tops = rng.randint(0, height - side + 1, size=n_images)
    lefts = rng.randint(0, width - side + 1, size=n_images)
    rows = np.arange(height)[None, :, None]
    cols = np.arange(width)[None, None, :]
    inside = (
        (rows >= tops[:, None, None]) & (rows < tops[:, None, None] + side)
        & (cols >= lefts[:, None, None]) & (cols < lefts[:, None, None] + side)
    )
    mask[inside] = False
    return mask.reshape(n_images, height * width)


def patch_missingness_mask(n_images, image_shape=(28, 28), rate=0.5, n_patches=4,
                           random_state=None):
    """P.M.: ``n_patches`` rectangles placed uniformly at random are missing.

    Patches may overlap, so sizes are set per image so that the **expected** missing
    fraction of every image equals ``rate``.  The patches of one image share a size,
    taken from a growing sequence of near-square rectangles (1x1, 2x1, 2x2, 3x2, 3x3,
    ...; each contains the one before at the image's patch positions, which are drawn as
    fractions of the free range).  Bisection finds the two consecutive sizes whose
    patch unions bracket ``rate * H * W`` pixels, and the larger is chosen with the
    probability that makes the expectation exact (stochastic rounding).  A single
    image's fraction is therefore within one size step of ``rate``, and the mean over
    1,000 28x28 images is within 1 percentage point (tested).  ``rate=0`` gives no
    patch, ``rate=1`` everything missing.
    """
    _check_rate(rate)
    height, width = _check_shape(n_images, image_shape)
    if not isinstance(n_patches, Integral) or n_patches < 1:
        raise ValueError(f"n_patches must be a positive integer; got {n_patches!r}.")
    rng = check_random_state(random_state)
    target = rate * height * width
    positions = rng.random_sample((n_images, n_patches, 2))
    coins = rng.random_sample(n_images)
    mask = np.zeros((n_images, height, width), dtype=bool)
    n_steps = 2 * max(height, width)
    for i in range(n_images):
        low, high = 0, n_steps
        while low < high:  # first step whose union reaches the target
            mid = (low + high) // 2
            if _patch_union(positions[i], mid, height, width).sum() >= target:
                high = mid
            else:
                low = mid + 1
        above = _patch_union(positions[i], low, height, width)
        below = _patch_union(positions[i], max(low - 1, 0), height, width)
        gap = above.sum() - below.sum()
        take_above = gap == 0 or coins[i] < (target - below.sum()) / gap
        mask[i] = above if take_above else below
    return mask.reshape(n_images, -1)


def _patch_union(positions, step, height, width):
    """Union of the patches of size step ``step``: ``((step+1)//2) x (step//2)``, clipped."""
    covered = np.zeros((height, width), dtype=bool)
    side_h, side_w = min((step + 1) // 2, height), min(step // 2, width)
    if side_h == 0 or side_w == 0:
        return covered
    for frac_top, frac_left in positions:
        top = int(frac_top * (height - side_h + 1))
        left = int(frac_left * (width - side_w + 1))
        covered[top: top + side_h, left: left + side_w] = True
    return covered


def make_mask(mechanism, n_images, image_shape=(28, 28), rate=0.5, random_state=None,
              **kwargs):
    """Dispatch on ``mechanism`` in {"IM", "SO", "PM"} (dots and case ignored)."""
    key = mechanism.replace(".", "").upper()
    functions = {
        "IM": independent_mask,
        "SO": square_observation_mask,
        "PM": patch_missingness_mask,
    }
    if key not in functions:
        raise ValueError(
            f"Unknown missingness mechanism {mechanism!r}; choose one of I.M., S.O., P.M."
        )
    return functions[key](n_images, image_shape, rate=rate, random_state=random_state, **kwargs)


def apply_mask(X, mask):
    """Return a float copy of ``X`` with NaN where ``mask`` is True (``X`` is unchanged)."""
    X = np.array(X, dtype=float, copy=True)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != X.shape:
        raise ValueError(f"mask has shape {mask.shape} but X has shape {X.shape}.")
    X[mask] = np.nan
    return X
