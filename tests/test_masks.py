import numpy as np
import pytest
from scipy import stats

from skrbm_impute import (
    apply_mask,
    independent_mask,
    make_mask,
    patch_missingness_mask,
    square_observation_mask,
)
from skrbm_impute.masks import patch_count


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.6, 0.9])
def test_independent_rate(rate):
    mask = independent_mask(1000, (28, 28), rate=rate, random_state=0)
    assert mask.shape == (1000, 784) and mask.dtype == bool
    # 784,000 Bernoulli draws: the standard error is below 0.06 percentage points.
    assert abs(mask.mean() - rate) < 0.003


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.6, 0.9])
def test_square_observation_keeps_one_square(rate):
    mask = square_observation_mask(200, (28, 28), rate=rate, random_state=1)
    side = int(round(np.sqrt((1 - rate) * 784)))
    observed = ~mask.reshape(-1, 28, 28)
    for image in observed:
        rows, cols = np.nonzero(image)
        assert image.sum() == side * side
        assert rows.max() - rows.min() + 1 == side and cols.max() - cols.min() + 1 == side
    np.testing.assert_allclose(mask.mean(axis=1), 1 - side * side / 784)
    # placement is random and covers the image: corners are reached at some point
    tops = observed.argmax(axis=1).max(axis=1)
    assert len(np.unique(tops)) > 1


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5, 0.6, 0.9])
@pytest.mark.parametrize("geometry", [{}, {"patch_size": 5}, {"patch_size": (2, 7)},
                                      {"placement": "inside"}])
def test_patch_missingness_rate_within_one_point(rate, geometry):
    mask = patch_missingness_mask(1000, (28, 28), rate=rate, random_state=2, **geometry)
    assert abs(mask.mean() - rate) < 0.01


def _coverage_by_enumeration(height, width, patch_h, patch_w):
    """q[i, j]: fraction of the H*W centres whose clipped rectangle covers (i, j), by a
    plain loop over centres (independent of the vectorised per-axis formula)."""
    counts = np.zeros((height, width))
    for r in range(height):
        for c in range(width):
            top, left = r - patch_h // 2, c - patch_w // 2
            counts[max(top, 0): top + patch_h, max(left, 0): left + patch_w] += 1
    return counts / (height * width)


@pytest.mark.parametrize("shape, patch", [((28, 28), (4, 4)), ((28, 28), (5, 5)),
                                          ((10, 13), (3, 6))])
@pytest.mark.parametrize("rate", [0.1, 0.6, 0.9])
def test_patch_count_solves_expected_fraction(shape, patch, rate):
    q = _coverage_by_enumeration(*shape, *patch)
    k = patch_count(rate, shape, patch)
    assert np.mean(1 - (1 - q) ** k) == pytest.approx(rate, abs=1e-9)


def test_patch_count_on_28x28():
    # 4x4 rectangles: about 18.7 / 48.5 / 125.4 of them at 0.3 / 0.6 / 0.9 (more than the
    # area alone suggests, since they overlap and the border clips them).
    counts = [patch_count(rate) for rate in (0.3, 0.6, 0.9)]
    assert counts[0] > 0.3 * 784 / 16 and counts[0] < counts[1] < counts[2]
    np.testing.assert_allclose(counts, [18.7, 48.5, 125.4], atol=0.1)


def _single_rectangles(n_images, shape, patch, placement="clipped", seed=3):
    """Masks of exactly one rectangle each (rate chosen so the count rounds to 1)."""
    rate = 0.02
    assert round(patch_count(rate, shape, patch, placement)) == 1
    mask = patch_missingness_mask(n_images, shape, rate=rate, patch_size=patch,
                                  placement=placement, count_rounding="nearest",
                                  random_state=seed)
    return mask.reshape(-1, *shape)


def test_patch_missingness_rectangles_are_clipped_at_the_border():
    shape, (patch_h, patch_w) = (28, 28), (4, 6)
    images = _single_rectangles(4000, shape, (patch_h, patch_w))
    clipped = 0
    for image in images:
        rows, cols = np.nonzero(image)
        height = rows.max() - rows.min() + 1
        width = cols.max() - cols.min() + 1
        assert height * width == image.sum()  # one solid rectangle
        # full size unless it touches the border, then cut by at most the overhang
        assert height == patch_h or rows.min() == 0 or rows.max() == shape[0] - 1
        assert width == patch_w or cols.min() == 0 or cols.max() == shape[1] - 1
        assert patch_h - patch_h // 2 <= height <= patch_h
        assert patch_w - patch_w // 2 <= width <= patch_w
        clipped += (height < patch_h) or (width < patch_w)
    # a centre within 3 (rows: 2 above, 1 below) or 5 (cols) pixels of the border clips:
    # P(clipped) = 1 - (25/28)(23/28) = 0.267
    assert abs(clipped / len(images) - (1 - 25 / 28 * 23 / 28)) < 0.03


def _centres(images, patch_h, patch_w):
    """Recover every rectangle's centre from its (possibly clipped) extent."""
    height, width = images.shape[1:]
    centres = []
    for image in images:
        rows, cols = np.nonzero(image)
        assert rows.max() - rows.min() < height - 1 and cols.max() - cols.min() < width - 1
        # cut at the top / left: the far edge tells where the rectangle started
        top = rows.max() - patch_h + 1 if rows.min() == 0 else rows.min()
        left = cols.max() - patch_w + 1 if cols.min() == 0 else cols.min()
        centres.append((top + patch_h // 2, left + patch_w // 2))
    return np.array(centres)


@pytest.mark.parametrize("patch", [(4, 4), (5, 3)])
def test_patch_centres_are_uniform_over_the_image(patch):
    shape = (28, 28)
    centres = _centres(_single_rectangles(8400, shape, patch), *patch)
    for axis in (0, 1):
        assert centres[:, axis].min() == 0 and centres[:, axis].max() == shape[axis] - 1
        counts = np.bincount(centres[:, axis], minlength=shape[axis])
        # 300 expected per row / column; fixed seed, so the test is deterministic
        assert stats.chisquare(counts).pvalue > 0.01
    joint = np.bincount(centres[:, 0] // 7 * 4 + centres[:, 1] // 7, minlength=16)
    assert stats.chisquare(joint).pvalue > 0.01  # rows and columns independent


def test_patch_inside_placement_keeps_rectangles_whole():
    shape, patch = (28, 28), (5, 5)
    images = _single_rectangles(3000, shape, patch, placement="inside")
    assert np.all(images.sum(axis=(1, 2)) == 25)
    tops = images.any(axis=2).argmax(axis=1)
    counts = np.bincount(tops, minlength=24)
    assert len(counts) == 24  # tops 0..23 only
    assert stats.chisquare(counts).pvalue > 0.01


@pytest.mark.parametrize("rate", [0.3, 0.9])
def test_patch_pixel_missing_probability_matches_coverage(rate):
    # Each pixel is missing with probability 1 - (1 - q_ij)^k: border pixels less often.
    shape, patch = (28, 28), (4, 4)
    mask = patch_missingness_mask(4000, shape, rate=rate, random_state=5).reshape(-1, *shape)
    q = _coverage_by_enumeration(*shape, *patch)
    k = patch_count(rate, shape, patch)
    low = int(np.floor(k))
    f = [np.mean(1 - (1 - q) ** n) for n in (low, low + 1)]
    p_high = (rate - f[0]) / (f[1] - f[0])
    expected = (1 - p_high) * (1 - (1 - q) ** low) + p_high * (1 - (1 - q) ** (low + 1))
    observed = mask.mean(axis=0)
    # binomial SE <= 0.008 per pixel at 4,000 images
    assert np.max(np.abs(observed - expected)) < 0.035
    assert observed[0, 0] < observed[14, 14]
    assert abs(observed.mean() - rate) < 0.01


def test_patch_nearest_rounding_uses_a_fixed_count():
    shape, rate = (28, 28), 0.1
    k = patch_count(rate, shape, (5, 5))  # 3.56: every image gets 4
    q = _coverage_by_enumeration(*shape, 5, 5)
    expected = np.mean(1 - (1 - q) ** round(k))
    mask = patch_missingness_mask(2000, shape, rate=rate, patch_size=5,
                                  count_rounding="nearest", random_state=6)
    assert abs(mask.mean() - expected) < 0.005
    assert abs(expected - rate) > 0.005  # the nearest count alone misses the rate


def test_make_mask_passes_the_geometry():
    a = make_mask("PM", 30, (28, 28), 0.3, random_state=1, patch_size=6, placement="inside")
    b = patch_missingness_mask(30, (28, 28), 0.3, patch_size=6, placement="inside",
                               random_state=1)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, make_mask("PM", 30, (28, 28), 0.3, random_state=1))


@pytest.mark.parametrize("mechanism", ["IM", "S.O.", "p.m."])
def test_reproducible_and_seed_dependent(mechanism):
    a = make_mask(mechanism, 20, (8, 8), rate=0.5, random_state=7)
    b = make_mask(mechanism, 20, (8, 8), rate=0.5, random_state=7)
    c = make_mask(mechanism, 20, (8, 8), rate=0.5, random_state=8)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_extreme_rates():
    assert not independent_mask(5, (4, 4), rate=0.0, random_state=0).any()
    assert independent_mask(5, (4, 4), rate=1.0, random_state=0).all()
    assert not patch_missingness_mask(5, (4, 4), rate=0.0, random_state=0).any()
    assert patch_missingness_mask(5, (4, 4), rate=1.0, random_state=0).all()
    assert square_observation_mask(5, (4, 4), rate=1.0, random_state=0).all()


def test_bad_arguments():
    with pytest.raises(ValueError, match="rate"):
        independent_mask(5, (4, 4), rate=1.5)
    with pytest.raises(ValueError, match="mechanism"):
        make_mask("XX", 5, (4, 4))
    with pytest.raises(ValueError, match="patch_size"):
        patch_missingness_mask(5, (4, 4), patch_size=0)
    with pytest.raises(ValueError, match="patch_size"):
        patch_missingness_mask(5, (4, 4), patch_size=(2, 2, 2))
    with pytest.raises(ValueError, match="placement"):
        patch_missingness_mask(5, (4, 4), placement="centre")
    with pytest.raises(ValueError, match="count_rounding"):
        patch_missingness_mask(5, (4, 4), count_rounding="up")


def test_apply_mask_copies():
    X = np.arange(6, dtype=float).reshape(2, 3) / 10
    mask = np.array([[True, False, False], [False, False, True]])
    out = apply_mask(X, mask)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 2]) and out[0, 1] == 0.1
    assert not np.isnan(X).any()
    with pytest.raises(ValueError, match="shape"):
        apply_mask(X, mask[:, :2])
