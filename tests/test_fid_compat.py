"""Our Fréchet distance against pytorch-fid's ``calculate_frechet_distance``.

The package computes the formula itself on ``scipy.linalg.sqrtm``'s current API;
pytorch-fid 0.3 calls ``sqrtm(..., disp=False)``, removed in SciPy 1.18, so the
comparison runs wherever SciPy still accepts that call.
"""

import inspect
import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
import scipy.linalg

from skrbm_impute.metrics import frechet_distance

SCIPY_HAS_DISP = "disp" in inspect.signature(scipy.linalg.sqrtm).parameters


def _gaussians(seed, d=6, rank=None):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(300, d))
    B = rng.normal(0.5, 1.5, size=(200, d)) @ rng.normal(size=(d, d))
    if rank is not None:  # singular covariances: features confined to a subspace
        A[:, rank:] = 0.0
        B[:, rank:] = 0.0
    return [(X.mean(0), np.cov(X, rowvar=False)) for X in (A, B)]


@pytest.mark.skipif(not SCIPY_HAS_DISP, reason="this SciPy has no sqrtm(disp=...), which "
                    "pytorch-fid 0.3 needs; the formula is checked by test_metrics.py")
@pytest.mark.parametrize("seed, rank", [(0, None), (1, None), (2, 3)])
def test_matches_pytorch_fid(seed, rank, capsys):
    from pytorch_fid.fid_score import calculate_frechet_distance

    (mu_a, sigma_a), (mu_b, sigma_b) = _gaussians(seed, rank=rank)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = calculate_frechet_distance(mu_a, sigma_a, mu_b, sigma_b)
    capsys.readouterr()  # pytorch-fid prints a note on the singular case
    assert frechet_distance((mu_a, sigma_a), (mu_b, sigma_b)) == pytest.approx(
        max(float(expected), 0.0), rel=1e-9, abs=1e-9)


def test_singular_covariances_give_a_finite_distance():
    (mu_a, sigma_a), (mu_b, sigma_b) = _gaussians(2, rank=3)
    distance = frechet_distance((mu_a, sigma_a), (mu_b, sigma_b))
    assert np.isfinite(distance) and distance > 0
    assert frechet_distance((mu_a, sigma_a), (mu_a, sigma_a)) == pytest.approx(0, abs=1e-5)


def test_no_global_patching_safe_in_threads():
    pairs = [_gaussians(seed) for seed in range(8)]
    serial = [frechet_distance(a, b) for a, b in pairs]
    with ThreadPoolExecutor(4) as pool:
        parallel = list(pool.map(lambda ab: frechet_distance(*ab), pairs * 4))
    assert parallel == serial * 4
    import pytorch_fid.fid_score

    assert pytorch_fid.fid_score.linalg is scipy.linalg  # nothing swapped in


def test_invalid_covariances_are_refused():
    with pytest.raises(ValueError, match="imaginary"):
        frechet_distance((np.zeros(2), np.diag([1.0, -4.0])), (np.zeros(2), np.eye(2)))
    with pytest.raises(ValueError, match="different sizes"):
        frechet_distance((np.zeros(2), np.eye(2)), (np.zeros(3), np.eye(3)))
