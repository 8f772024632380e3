import numpy as np
import pytest
import scipy.ndimage as ndimage

from skrbm_impute import DiffusionInpaintImputer, apply_mask, independent_mask
from skrbm_impute._numerics.diffusion import BORDER_MODES, diffusion_inpaint, diffusion_kernel


def _scipy_reference(images, missing, kernel, n_iter, init, mode):
    """Convolve the whole stack with scipy, then re-impose the observed pixels."""
    weights = diffusion_kernel(kernel)[None]
    current = np.where(missing, init, images)
    for _ in range(n_iter):
        current = np.where(missing, ndimage.convolve(current, weights, mode=mode), images)
    return current


@pytest.mark.parametrize("kernel", [1, 2])
@pytest.mark.parametrize("mode", BORDER_MODES)
@pytest.mark.parametrize("shape", [(28, 28), (5, 7), (3, 3)])
def test_core_matches_scipy_convolve(kernel, mode, shape):
    rng = np.random.RandomState(0)
    images = rng.random_sample((70, *shape))  # 70 > one chunk, so chunk edges are covered
    missing = rng.random_sample(images.shape) < 0.6
    ours = diffusion_inpaint(images, missing, kernel=kernel, n_iter=9, init=0.3, mode=mode)
    reference = _scipy_reference(images, missing, kernel, 9, 0.3, mode)
    np.testing.assert_allclose(ours, reference, atol=1e-6)


def test_kernels_are_the_published_ones():
    k1, k2 = diffusion_kernel(1), diffusion_kernel(2)
    assert k1[0, 0] == 0.073235 and k1[0, 1] == 0.176765 and k1[1, 1] == 0
    assert np.all(k2[np.arange(9).reshape(3, 3) != 4] == 0.125) and k2[1, 1] == 0
    np.testing.assert_allclose([k1.sum(), k2.sum()], [1.0, 1.0])


def test_default_border_is_zero_padding():
    assert DiffusionInpaintImputer().mode == "constant"
    rng = np.random.RandomState(1)
    images = rng.random_sample((5, 6, 6))
    missing = rng.random_sample(images.shape) < 0.5
    np.testing.assert_array_equal(
        diffusion_inpaint(images, missing),
        diffusion_inpaint(images, missing, mode="constant"),
    )
    assert not np.allclose(diffusion_inpaint(images, missing),
                           diffusion_inpaint(images, missing, mode="nearest"))


@pytest.mark.parametrize("mode, step", [
    # nearest: the hole sees 3 copies of each horizontal neighbour plus 2 of itself
    # (rows above/below repeat the row), so x <- (3*1 + 3*0 + 2*x) / 8.
    ("nearest", lambda x: (3.0 + 2.0 * x) / 8.0),
    # zero padding: only the left neighbour (1) and the right one (0) are non-zero.
    ("constant", lambda x: 1.0 / 8.0),
])
def test_iteration_count_is_exact(mode, step):
    # One hole in the middle of a 1-row ramp: after k steps the value is known in closed form.
    images = np.zeros((1, 1, 3))
    images[0, 0] = [1.0, 0.0, 0.0]
    missing = np.array([[[False, True, False]]])
    x, expected = 0.0, []
    for _ in range(5):
        x = step(x)
        expected.append(x)
    for steps, value in enumerate(expected, start=1):
        out = diffusion_inpaint(images, missing, n_iter=steps, mode=mode)
        assert out[0, 0, 1] == pytest.approx(value, abs=1e-6)


def test_constant_image_stays_constant_with_nearest_border():
    X = np.full((3, 49), 0.7)
    mask = independent_mask(3, (7, 7), rate=0.5, random_state=0)
    out = DiffusionInpaintImputer(init=0.7, mode="nearest").fit_transform(apply_mask(X, mask))
    np.testing.assert_allclose(out, 0.7, atol=1e-6)


def test_zero_padding_darkens_a_missing_frame():
    # S.O.-like: only a centre square observed (bright); with zero padding the missing
    # frame fades towards the black border, with replicated edges it stays bright.
    X = np.full((1, 81), 0.8)
    missing = np.ones((9, 9), bool)
    missing[3:6, 3:6] = False
    X_missing = apply_mask(X, missing.reshape(1, -1))
    zero = DiffusionInpaintImputer(init=0.8).fit_transform(X_missing).reshape(9, 9)
    edge = DiffusionInpaintImputer(init=0.8, mode="nearest").fit_transform(X_missing)
    np.testing.assert_allclose(edge, 0.8, atol=1e-6)
    assert zero[0, 0] < zero[1, 1] < zero[2, 2] < 0.8
    assert zero[0, 0] < 0.3


def test_affine_ramp_is_preserved_in_the_interior():
    rows, cols = np.mgrid[0:9, 0:9]
    ramp = (0.02 * rows + 0.05 * cols).reshape(1, -1)
    missing = np.zeros((9, 9), bool)
    missing[3:6, 3:6] = True
    X = apply_mask(ramp, missing.reshape(1, -1))
    out = DiffusionInpaintImputer(n_iter=2000).fit_transform(X)
    np.testing.assert_allclose(out, ramp, atol=1e-5)


def test_init_image_mean_starts_from_each_images_observed_mean():
    X = np.array([[0.2, np.nan, 0.4, np.nan], [np.nan, np.nan, np.nan, np.nan]])
    out = DiffusionInpaintImputer(n_iter=0, init="image-mean").fit_transform(X)
    np.testing.assert_allclose(out[0], [0.2, 0.3, 0.4, 0.3])
    np.testing.assert_allclose(out[1], 0.0)  # nothing observed: 0


def test_all_missing_image():
    X = np.full((2, 16), np.nan)
    # replicated edges: nothing diffuses in, the image stays at init
    out = DiffusionInpaintImputer(init=0.25, mode="nearest").fit_transform(X)
    np.testing.assert_allclose(out, 0.25)
    # zero padding: the black border diffuses in, 200 steps on 4x4 leave almost nothing
    out = DiffusionInpaintImputer(init=0.25).fit_transform(X)
    assert np.all((out >= 0) & (out < 1e-3))


def test_image_shape_must_match_features():
    X = np.random.RandomState(0).random_sample((4, 12))
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="perfect square"):
        DiffusionInpaintImputer().fit(X)
    with pytest.raises(ValueError, match="holds 15 pixels"):
        DiffusionInpaintImputer(image_shape=(3, 5)).fit(X)
    out = DiffusionInpaintImputer(image_shape=(3, 4)).fit_transform(X)
    assert not np.isnan(out).any()
    with pytest.raises(ValueError, match="positive integers"):
        DiffusionInpaintImputer(image_shape=(3, -4)).fit(X)


@pytest.mark.parametrize("params, message", [
    ({"kernel": 3}, "kernel"),
    ({"n_iter": -1}, "n_iter"),
    ({"mode": "edge"}, "mode"),
    ({"init": "median"}, "init"),
])
def test_parameters_are_validated(params, message):
    with pytest.raises(ValueError, match=message):
        DiffusionInpaintImputer(**params).fit(np.ones((2, 4)))


def test_rectangular_images_use_image_shape_orientation():
    # A vertical edge: left half 1, right half 0, on a 4x6 image, hole in the left half.
    image = np.zeros((4, 6))
    image[:, :3] = 1.0
    X = image.reshape(1, -1).copy()
    X[0, 1 * 6 + 1] = np.nan
    out = DiffusionInpaintImputer(image_shape=(4, 6), n_iter=500).fit_transform(X)
    assert out[0, 7] == pytest.approx(1.0, abs=1e-6)
