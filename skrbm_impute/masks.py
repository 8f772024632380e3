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


PATCH_PLACEMENTS = ("clipped", "inside")
COUNT_ROUNDINGS = ("stochastic", "nearest")


def patch_missingness_mask(n_images, image_shape=(28, 28), rate=0.5, patch_size=(4, 4),
                           placement="clipped", count_rounding="stochastic",
                           random_state=None):
    """P.M.: a fixed number of small rectangles placed at random are missing.

    The paper (section 4): "a fixed number of randomly placed rectangular regions of
    pixels are missing".  Every image gets ``k`` rectangles of ``patch_size``; each
    rectangle's centre is drawn uniformly over the image's pixels (row and column
    independently) and the rectangle is clipped at the border (``placement="clipped"``).
    For an even side the centre is the pixel just after the middle, so a side-``s``
    rectangle centred at row ``r`` covers rows ``r - s // 2 ... r - s // 2 + s - 1``.
    Rectangles may overlap.

    The count ``k`` is solved from ``rate`` so that the **expected** missing fraction is
    ``rate``: a pixel at (i, j) is covered by one rectangle with probability
    ``q_ij = q_i q_j`` (per-axis fractions of centres whose rectangle reaches it), so
    ``k`` rectangles leave the expected fraction ``f(k) = mean_ij 1 - (1 - q_ij) ** k``;
    :func:`patch_count` finds the real ``k`` with ``f(k) = rate``.  With
    ``count_rounding="stochastic"`` (default) an image gets ``floor(k)`` or
    ``floor(k) + 1`` rectangles, the larger with the probability that makes the
    expectation exactly ``rate`` (one rectangle covers up to 2-3 % of a 28x28 image, so
    rounding ``k`` to an integer would miss ``rate`` by up to a point or more at low
    rates); with ``"nearest"`` every image gets ``round(k)`` rectangles (a truly fixed
    number; the expected fraction is then ``f(round(k))``).  On 28x28 with the default
    4x4 rectangles ``k`` is about 18.7, 48.5 and 125.4 at rates 0.3, 0.6 and 0.9.

    Why this geometry (``benchmarks/pm_geometry.py`` on the 10,000 real MNIST test
    digits: the first 5,000, masked, fit the Mean imputer and a logistic regression;
    the last 5,000 are masked and scored; ``benchmarks/results/pm_geometry.md``).  The
    paper's own figures say what its P.M. looked like.  Its Mean-imputer RMSE under
    P.M. (.262/.264/.262 at 0.3/0.6/0.9) is only 1.019/1.027/1.019 times its I.M. one
    (.257), so its holes fall nearly uniformly over pixel positions, not on the digit;
    the former geometry here (4 near-square patches kept inside the frame) gave
    1.236/1.226/1.396 and hid 91 % of the ink at 0.6 (issue 9).  Any small clipped square gives
    1.01-1.05; the size is then fixed by the paper's diffusion/Mean RMSE ratio,
    .763/.860/1.057, which grows with the rectangle (less context around each hole):
    side 3 gives 0.69/0.79/0.99, **side 4 0.760/0.854/1.037**, side 5 0.82/0.90/1.07,
    side 8 0.91/0.98/1.14.  Side 4 also has Mean ratios 1.020/1.023/1.012 and a
    Mean-imputer accuracy of 80.2/66.2/38.9 % (paper 85.4/74.6/44.2; on the same
    5,000 training digits I.M. gives 85.8/81.3/62.0 against the paper's 90.5/87.4/71.5,
    so the P.M./I.M. accuracy ratios, 0.93/0.81/0.63, are the paper's 0.94/0.85/0.62).
    ``placement="inside"`` piles the holes on the image centre again (5x5: Mean
    ratio 1.14/1.12/1.06).  Only the two untrained imputers enter this choice, never a
    trained model's score.

    Parameters
    ----------
    n_images : int
        Number of masks.
    image_shape : tuple (height, width), default=(28, 28)
        Shape of one image.
    rate : float in [0, 1], default=0.5
        Expected missing fraction.  ``0`` gives no rectangle, ``1`` every pixel
        missing.
    patch_size : int or tuple (height, width), default=(4, 4)
        Size of every rectangle before clipping (an int means a square).
    placement : {"clipped", "inside"}, default="clipped"
        ``"clipped"``: centres uniform over the image, rectangles cut at the border;
        ``"inside"``: rectangles kept wholly inside the image (top-left corner uniform
        over the positions that fit), which covers the centre of the image more often
        than its edges.
    count_rounding : {"stochastic", "nearest"}, default="stochastic"
        How the real solution ``k`` becomes a number of rectangles per image (above).
    random_state : int, RandomState instance or None, default=None
        Seed of the rectangle counts and positions.

    Returns
    -------
    mask : ndarray of bool, shape (n_images, height * width)
        True where a pixel is missing.
    """
    _check_rate(rate)
    height, width = _check_shape(n_images, image_shape)
    patch_h, patch_w = _check_patch_size(patch_size)
    if placement not in PATCH_PLACEMENTS:
        raise ValueError(f"placement must be one of {PATCH_PLACEMENTS}; got {placement!r}.")
    if count_rounding not in COUNT_ROUNDINGS:
        raise ValueError(
            f"count_rounding must be one of {COUNT_ROUNDINGS}; got {count_rounding!r}."
        )
    rng = check_random_state(random_state)
    if rate >= 1.0:
        return np.ones((n_images, height * width), dtype=bool)
    count = patch_count(rate, image_shape, patch_size, placement)
    low = int(np.floor(count))
    if count_rounding == "nearest":
        counts = np.full(n_images, int(round(count)))
    else:
        coverage = _coverage(height, width, patch_h, patch_w, placement)
        f_low, f_high = _expected_fraction(coverage, low), _expected_fraction(coverage, low + 1)
        p_high = 0.0 if f_high == f_low else (rate - f_low) / (f_high - f_low)
        counts = low + (rng.random_sample(n_images) < p_high)
    n_max = int(counts.max(initial=0))
    # Positions of the first corner of every rectangle, drawn for n_max per image.
    if placement == "clipped":
        tops = rng.randint(0, height, size=(n_images, n_max)) - patch_h // 2
        lefts = rng.randint(0, width, size=(n_images, n_max)) - patch_w // 2
    else:
        tops = rng.randint(0, max(height - patch_h, 0) + 1, size=(n_images, n_max))
        lefts = rng.randint(0, max(width - patch_w, 0) + 1, size=(n_images, n_max))
    rows = np.arange(height)[None, :]
    cols = np.arange(width)[None, :]
    mask = np.zeros((n_images, height, width), dtype=bool)
    for j in range(n_max):
        active = (counts > j)[:, None]
        in_rows = (rows >= tops[:, j, None]) & (rows < tops[:, j, None] + patch_h) & active
        in_cols = (cols >= lefts[:, j, None]) & (cols < lefts[:, j, None] + patch_w)
        mask |= in_rows[:, :, None] & in_cols[:, None, :]
    return mask.reshape(n_images, height * width)


def _check_patch_size(patch_size):
    if isinstance(patch_size, Integral):
        patch_size = (patch_size, patch_size)
    try:
        patch_h, patch_w = patch_size
    except (TypeError, ValueError):
        raise ValueError(f"patch_size must be an int or (height, width); got {patch_size!r}.")
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1
               for s in (patch_h, patch_w)):
        raise ValueError(f"patch_size must hold positive integers; got {patch_size!r}.")
    return int(patch_h), int(patch_w)


def _axis_coverage(length, side, placement):
    """Per position, the fraction of a rectangle's placements that cover it (one axis)."""
    positions = np.arange(length)
    if placement == "clipped":
        starts = positions - side // 2  # one start per centre, centres uniform
    else:
        starts = np.arange(max(length - side, 0) + 1)
    covered = (positions[:, None] >= starts[None, :]) & (positions[:, None] < starts[None, :] + side)
    return covered.mean(axis=1)


def _coverage(height, width, patch_h, patch_w, placement):
    return np.outer(_axis_coverage(height, patch_h, placement),
                    _axis_coverage(width, patch_w, placement))


def _expected_fraction(coverage, count):
    return float(np.mean(1.0 - (1.0 - coverage) ** count))


def patch_count(rate, image_shape=(28, 28), patch_size=(4, 4), placement="clipped"):
    """The real number ``k`` of P.M. rectangles whose expected missing fraction is ``rate``.

    Solves ``mean_ij 1 - (1 - q_ij) ** k = rate`` by bisection, where ``q_ij`` is the
    probability that one rectangle covers pixel (i, j) (see
    :func:`patch_missingness_mask`).  The fraction grows with ``k`` and tends to 1.
    """
    _check_rate(rate)
    height, width = _check_shape(0, image_shape)
    patch_h, patch_w = _check_patch_size(patch_size)
    if placement not in PATCH_PLACEMENTS:
        raise ValueError(f"placement must be one of {PATCH_PLACEMENTS}; got {placement!r}.")
    if rate >= 1.0:
        return float("inf")
    coverage = _coverage(height, width, patch_h, patch_w, placement)
    low, high = 0.0, 1.0
    while _expected_fraction(coverage, high) < rate:
        high *= 2.0
    for _ in range(100):
        mid = 0.5 * (low + high)
        if _expected_fraction(coverage, mid) < rate:
            low = mid
        else:
            high = mid
    return 0.5 * (low + high)


def make_mask(mechanism, n_images, image_shape=(28, 28), rate=0.5, random_state=None,
              **kwargs):
    """Dispatch on ``mechanism`` in {"IM", "SO", "PM"} (dots and case ignored).

    ``**kwargs`` go to the mechanism's function, e.g. the P.M. geometry
    (``patch_size``, ``placement``, ``count_rounding``); without them P.M. is the
    paper-faithful default of :func:`patch_missingness_mask`.
    """
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
