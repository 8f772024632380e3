"""Missingness mechanisms of the paper (I.M., S.O., P.M.) and masking helpers.

Every mechanism returns a boolean array of shape ``(n_images, H * W)`` with True
where a pixel is missing, exactly reproducible for a given ``random_state``.
"""

import math
from numbers import Integral

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "COUNT_ROUNDINGS",
    "MECHANISMS",
    "PATCH_PLACEMENTS",
    "apply_mask",
    "independent_mask",
    "make_mask",
    "patch_count",
    "patch_missingness_mask",
    "square_observation_mask",
]

#: The mechanism codes in the paper's order.
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
    """I.M.: each pixel is missing independently with probability ``rate``.

    Parameters
    ----------
    n_images : int
        Number of masks.
    image_shape : tuple (height, width), default=(28, 28)
        Shape of one image.
    rate : float in [0, 1], default=0.5
        Probability that a pixel is missing.
    random_state : int, RandomState instance or None, default=None
        Seed of the draws.

    Returns
    -------
    mask : ndarray of bool, shape (n_images, height * width)
        True where a pixel is missing.

    Examples
    --------
    >>> from skrbm_impute import independent_mask
    >>> mask = independent_mask(1000, (28, 28), rate=0.6, random_state=0)
    >>> mask.shape, round(float(mask.mean()), 2)
    ((1000, 784), 0.6)
    """
    _check_rate(rate)
    height, width = _check_shape(n_images, image_shape)
    rng = check_random_state(random_state)
    return rng.random_sample((n_images, height * width)) < rate


def square_observation_mask(n_images, image_shape=(28, 28), rate=0.5, random_state=None):
    """S.O.: everything is missing except one observed square placed uniformly at random.

    The square's side is ``round(sqrt((1 - rate) * H * W))``, clipped to the image, so
    the realised missing fraction is ``1 - side**2 / (H * W)`` (the same for every
    image; MisGAN's ``BlockMaskedMNIST``).

    Parameters
    ----------
    n_images : int
        Number of masks.
    image_shape : tuple (height, width), default=(28, 28)
        Shape of one image.
    rate : float in [0, 1], default=0.5
        Requested missing fraction; the realised one is the nearest that a square allows.
    random_state : int, RandomState instance or None, default=None
        Seed of the squares' positions.

    Returns
    -------
    mask : ndarray of bool, shape (n_images, height * width)
        True where a pixel is missing.

    Examples
    --------
    >>> from skrbm_impute import square_observation_mask
    >>> mask = square_observation_mask(3, (28, 28), rate=0.6, random_state=0)
    >>> (~mask).sum(axis=1)  # one observed 18x18 square per image
    array([324, 324, 324])
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


#: Where P.M. rectangles may lie: cut at the border, or wholly inside the image.
PATCH_PLACEMENTS = ("clipped", "inside")
#: How the real P.M. rectangle count becomes a whole number per image.
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

    The default geometry (4x4 rectangles clipped at the border) is the one whose
    untrained-imputer figures match the paper's Table 1; the measurements are in the
    user guide, :doc:`/user_guide/measurements`.

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

    Examples
    --------
    >>> from skrbm_impute import patch_missingness_mask
    >>> mask = patch_missingness_mask(2000, (28, 28), rate=0.6, random_state=0)
    >>> round(float(mask.mean()), 2)
    0.6
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
    mask = np.empty((n_images, height * width), dtype=bool)
    for start in range(0, n_images, _CHUNK):  # bounded memory for 50,000-image sets
        part = slice(start, start + _CHUNK)
        mask[part] = _paint_rectangles(tops[part], lefts[part], counts[part],
                                       patch_h, patch_w, height, width)
    return mask


_CHUNK = 2048


def _paint_rectangles(tops, lefts, counts, patch_h, patch_w, height, width):
    """Union of the first ``counts[i]`` rectangles of every image, clipped at the border.

    Each rectangle adds +1/-1 at its four (clipped) corners of a difference image; the
    2-D cumulative sum then counts the rectangles covering every pixel, in
    O(n * k + n * H * W) instead of one full-image pass per rectangle.
    """
    n_images, n_max = tops.shape
    active = np.arange(n_max)[None, :] < counts[:, None]
    image = np.broadcast_to(np.arange(n_images)[:, None], tops.shape)[active]
    top, left = np.clip(tops[active], 0, height), np.clip(lefts[active], 0, width)
    bottom = np.clip(tops[active] + patch_h, 0, height)
    right = np.clip(lefts[active] + patch_w, 0, width)
    stride = (height + 1) * (width + 1)
    corners = [(top, left, 1.0), (top, right, -1.0), (bottom, left, -1.0), (bottom, right, 1.0)]
    index = np.concatenate([image * stride + r * (width + 1) + c for r, c, _ in corners])
    weight = np.concatenate([np.full(len(image), w) for _, _, w in corners])
    diff = np.bincount(index, weight, minlength=n_images * stride)
    covered = diff.reshape(n_images, height + 1, width + 1).cumsum(1).cumsum(2)
    return (covered[:, :height, :width] > 0.5).reshape(n_images, height * width)


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

    Parameters
    ----------
    rate : float in [0, 1]
        Expected missing fraction.
    image_shape : tuple (height, width), default=(28, 28)
        Shape of one image.
    patch_size : int or tuple (height, width), default=(4, 4)
        Size of every rectangle before clipping (an int means a square).
    placement : {"clipped", "inside"}, default="clipped"
        Where the rectangles may lie, as in :func:`patch_missingness_mask`.

    Returns
    -------
    k : float
        The real count; ``inf`` for ``rate=1``.

    Examples
    --------
    >>> from skrbm_impute.masks import patch_count
    >>> [round(patch_count(rate), 1) for rate in (0.3, 0.6, 0.9)]
    [18.7, 48.5, 125.4]
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
    """The mask of the mechanism named ``mechanism``: I.M., S.O. or P.M.

    Parameters
    ----------
    mechanism : {"IM", "SO", "PM"}
        The mechanism's code; dots and case are ignored (``"I.M."`` and ``"im"`` work).
    n_images : int
        Number of masks.
    image_shape : tuple (height, width), default=(28, 28)
        Shape of one image.
    rate : float in [0, 1], default=0.5
        Missing fraction (expected for I.M. and P.M., nearest achievable for S.O.).
    random_state : int, RandomState instance or None, default=None
        Seed of the mask.
    **kwargs : dict
        Passed to the mechanism's function, e.g. the P.M. geometry (``patch_size``,
        ``placement``, ``count_rounding``); without them P.M. is the paper-faithful
        default of :func:`patch_missingness_mask`.

    Returns
    -------
    mask : ndarray of bool, shape (n_images, height * width)
        True where a pixel is missing.

    See Also
    --------
    independent_mask : The I.M. mechanism.
    square_observation_mask : The S.O. mechanism.
    patch_missingness_mask : The P.M. mechanism.

    Examples
    --------
    >>> from skrbm_impute import make_mask
    >>> make_mask("I.M.", 5, (28, 28), rate=0.3, random_state=0).shape
    (5, 784)
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
    """Return a float copy of ``X`` with NaN where ``mask`` is True (``X`` is unchanged).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Complete data.
    mask : array-like of bool, shape (n_samples, n_features)
        True where an entry is to be missing.

    Returns
    -------
    X_missing : ndarray of float, shape (n_samples, n_features)
        The copy, with NaN marking the missing entries.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import apply_mask
    >>> apply_mask(np.ones((2, 2)), np.array([[True, False], [False, True]]))
    array([[nan,  1.],
           [ 1., nan]])
    """
    X = np.array(X, dtype=float, copy=True)
    mask = np.asarray(mask, dtype=bool)
    if mask.shape != X.shape:
        raise ValueError(f"mask has shape {mask.shape} but X has shape {X.shape}.")
    X[mask] = np.nan
    return X
