import numpy as np
import pytest

from skrbm_impute import (
    apply_mask,
    independent_mask,
    make_mask,
    patch_missingness_mask,
    square_observation_mask,
)


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
@pytest.mark.parametrize("n_patches", [1, 4])
def test_patch_missingness_rate_within_one_point(rate, n_patches):
    mask = patch_missingness_mask(1000, (28, 28), rate=rate, n_patches=n_patches,
                                  random_state=2)
    assert abs(mask.mean() - rate) < 0.01
    per_image = mask.mean(axis=1)
    assert np.all(np.abs(per_image - rate) < 0.1)


def test_patch_missingness_is_rectangles():
    mask = patch_missingness_mask(50, (28, 28), rate=0.3, n_patches=1, random_state=3)
    for image in mask.reshape(-1, 28, 28):
        rows, cols = np.nonzero(image)
        box = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert box == image.sum()  # one solid rectangle


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
    with pytest.raises(ValueError, match="n_patches"):
        patch_missingness_mask(5, (4, 4), n_patches=0)


def test_apply_mask_copies():
    X = np.arange(6, dtype=float).reshape(2, 3) / 10
    mask = np.array([[True, False, False], [False, False, True]])
    out = apply_mask(X, mask)
    assert np.isnan(out[0, 0]) and np.isnan(out[1, 2]) and out[0, 1] == 0.1
    assert not np.isnan(X).any()
    with pytest.raises(ValueError, match="shape"):
        apply_mask(X, mask[:, :2])
