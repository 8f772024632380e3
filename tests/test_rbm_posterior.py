"""Posterior sampling of the RBM imputers and the perception knob."""

import inspect
import itertools

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.model_selection import GridSearchCV

from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MisGANImputer
from skrbm_impute._numerics import rbm_posterior
from skrbm_impute.datasets import load_digits_01
from skrbm_impute.masks import apply_mask, independent_mask
from skrbm_impute.metrics import FIDScorer, MaskedRMSEScorer

RBMS = [LMRBMImputer, MaskedRBMImputer]


@pytest.fixture(autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


# ------------------------------------------------------------------ tiny exact RBM
def tiny_rbm(seed=7, n_visible=5, n_hidden=4):
    """Strong weights, hidden biases centring the inputs: a conditional with no dominant
    configuration and clearly dependent units (seed 7: largest probability 0.22)."""
    rng = np.random.RandomState(seed)
    b, W = rng.normal(0, 0.5, n_visible), rng.normal(0, 2.0, (n_visible, n_hidden))
    return b, W, rng.normal(0, 0.5, n_hidden) - W.sum(0) / 2


def exact_conditional(b, W, c, v_o, observed_idx, missing_idx):
    """``P(v_m | v_o)`` under E by enumeration (free energy of each configuration)."""
    configs = np.array(list(itertools.product([0.0, 1.0], repeat=len(missing_idx))))
    log_p = []
    for config in configs:
        v = np.zeros(len(b))
        v[observed_idx], v[missing_idx] = v_o, config
        log_p.append(b @ v + np.sum(np.logaddexp(0.0, v @ W + c)))
    log_p = np.array(log_p)
    p = np.exp(log_p - log_p.max())
    return configs, p / p.sum()


def chain_tensors(b, W, c, v_o, observed_idx, missing_idx, n_rows):
    v = np.zeros(len(b))
    v[observed_idx] = v_o
    m = np.zeros(len(b))
    m[missing_idx] = 1.0
    as_t = lambda a: torch.as_tensor(a, dtype=torch.float64)  # noqa: E731
    return (as_t(np.tile(v, (n_rows, 1))), as_t(np.tile(m, (n_rows, 1))), as_t(b), as_t(W),
            as_t(c))


@pytest.mark.parametrize("marginal", [False, True])
@pytest.mark.parametrize("factored", [False, True])
def test_clamped_chain_targets_the_exact_conditional(marginal, factored):
    """Frequencies of the 2^3 missing configurations match the enumerated P_E(v_m | v_o),
    whichever start (Ê_o with or without b_m) and parameterisation of W."""
    b, W, c = tiny_rbm()
    observed_idx, missing_idx, v_o = [0, 3], [1, 2, 4], np.array([0.3, 1.0])
    v, m, b_t, W_t, c_t = chain_tensors(b, W, c, v_o, observed_idx, missing_idx, 20000)
    weights = W_t
    if factored:  # W = A B exactly, with rank 5 = n_visible
        A = torch.linalg.qr(torch.randn(5, 5, dtype=torch.float64,
                                        generator=torch.Generator().manual_seed(1))).Q
        weights = (A, A.T @ W_t)
    draws = rbm_posterior.clamped_gibbs(
        v, m, b_t, weights, c_t, marginal=marginal, n_draws=5, burn_in=20, thinning=3,
        generator=torch.Generator().manual_seed(0))
    assert draws.shape == (5, 20000, 5)
    assert torch.equal(draws[..., observed_idx], v[None, :, observed_idx].expand(5, -1, -1))
    configs, exact = exact_conditional(b, W, c, v_o, observed_idx, missing_idx)
    sampled = draws[..., missing_idx].reshape(-1, 3).numpy()
    empirical = np.array([np.all(sampled == config, axis=1).mean() for config in configs])
    assert 0.5 * np.abs(empirical - exact).sum() < 0.01
    # the model is far from independent: a product of the marginals is visibly worse
    marginals = np.prod([np.where(configs[:, k] == 1, p, 1 - p)
                         for k, p in enumerate(sampled.mean(0))], axis=0)
    assert 0.5 * np.abs(marginals - exact).sum() > 0.1


def test_chain_visible_means_average_to_the_exact_conditional_mean():
    """The chain's ``P(v = 1 | h_{t-1})`` averaged over steps (the Rao-Blackwellised
    estimate of ``E[v_m | v_o]``) matches the enumerated conditional mean."""
    b, W, c = tiny_rbm(seed=8)
    observed_idx, missing_idx, v_o = [1, 2], [0, 3, 4], np.array([0.0, 0.7])
    v, m, b_t, W_t, c_t = chain_tensors(b, W, c, v_o, observed_idx, missing_idx, 4000)
    chain = rbm_posterior.clamped_chain(v, m, b_t, W_t, c_t, marginal=True,
                                        generator=torch.Generator().manual_seed(0))
    means = [p_visible for _, (_, p_visible) in zip(range(50), chain)][20:]
    mean = torch.stack(means).mean(0)
    configs, exact = exact_conditional(b, W, c, v_o, observed_idx, missing_idx)
    np.testing.assert_allclose(mean[:, missing_idx].mean(0).numpy(), exact @ configs,
                               atol=0.01)


def test_clamped_gibbs_records_the_chain_steps_burn_in_plus_multiples_of_thinning():
    """Draw k is the chain's visible layer at step burn_in + k * thinning (same stream),
    0/1 in the holes and clamped elsewhere."""
    b, W, c = tiny_rbm(seed=5)
    v, m, b_t, W_t, c_t = chain_tensors(b, W, c, np.array([1.0]), [0], [1, 2, 3, 4], 3)
    draws = rbm_posterior.clamped_gibbs(v, m, b_t, W_t, c_t, marginal=False, n_draws=2,
                                        burn_in=1, thinning=2,
                                        generator=torch.Generator().manual_seed(5))
    chain = rbm_posterior.clamped_chain(v, m, b_t, W_t, c_t, marginal=False,
                                        generator=torch.Generator().manual_seed(5))
    steps = [visible for _, (visible, _) in zip(range(5), chain)]
    assert torch.equal(draws[0], steps[2]) and torch.equal(draws[1], steps[4])
    assert set(np.unique(draws[:, :, 1:].numpy())) <= {0.0, 1.0}
    assert torch.equal(draws[:, :, 0], v[None, :, 0].expand(2, -1))


def test_clamped_gibbs_rejects_bad_arguments():
    b, W, c = tiny_rbm()
    v, m, b_t, W_t, c_t = chain_tensors(b, W, c, np.array([1.0]), [0], [1, 2, 3, 4], 2)
    for bad in (dict(n_draws=1, thinning=0), dict(n_draws=0), dict(n_draws=1, burn_in=-1)):
        with pytest.raises(ValueError, match="thinning >= 1"):
            rbm_posterior.clamped_gibbs(v, m, b_t, W_t, c_t, marginal=False, generator=None,
                                        **bad)


# --------------------------------------------------------------- the estimators
@pytest.fixture(scope="module")
def digits():
    X, _ = load_digits_01()
    X_missing = apply_mask(X[:400], independent_mask(400, (8, 8), 0.4, random_state=0))
    return X[:400], X_missing


@pytest.fixture(scope="module")
def fitted(digits):
    _, X_missing = digits
    return {cls: cls(n_components=32, n_epochs=15, batch_size=32, learning_rate=0.01,
                     rank=None, random_state=0).fit(X_missing[:300]) for cls in RBMS}


@pytest.mark.parametrize("cls", RBMS)
def test_sample_imputations_shape_observed_bits_and_determinism(cls, fitted, digits):
    _, X_missing = digits
    model = fitted[cls]
    X = X_missing[300:].astype(np.float32)
    draws = model.sample_imputations(X, 4, random_state=7)
    assert draws.shape == (4, 100, 64) and draws.dtype == np.float32
    missing = np.isnan(X)
    for draw in draws:
        np.testing.assert_array_equal(draw[~missing], X[~missing])  # bit-identical
    assert set(np.unique(draws[:, missing])) == {0.0, 1.0}
    np.testing.assert_array_equal(draws, model.sample_imputations(X, 4, random_state=7))
    assert not np.array_equal(draws, model.sample_imputations(X, 4, random_state=8))
    assert not np.array_equal(draws[0], draws[1])  # the draws differ
    with pytest.raises(ValueError, match="n_imputations"):
        model.sample_imputations(X, 0)


def test_generative_imputers_share_the_sampling_signature():
    signatures = {cls: list(inspect.signature(cls.sample_imputations).parameters)
                  for cls in (LMRBMImputer, MaskedRBMImputer, MisGANImputer)}
    assert all(s == ["self", "X", "n_imputations", "random_state"]
               for s in signatures.values())


@pytest.mark.parametrize("cls", RBMS)
def test_perception_knob_interpolates_deterministically(cls, fitted, digits):
    _, X_missing = digits
    model = fitted[cls]
    X = X_missing[300:]
    missing = np.isnan(X)
    default = model.transform(X)
    ends = {}
    for p in (0.0, 1.0, 0.3):
        model.set_params(perception=p)
        ends[p] = model.transform(X)
        np.testing.assert_array_equal(ends[p], model.transform(X))  # deterministic
        np.testing.assert_array_equal(ends[p][~missing], X[~missing])
    model.set_params(perception=None)
    np.testing.assert_array_equal(model.transform(X), default)
    np.testing.assert_array_equal(ends[0.0], default)  # p = 0 is the mean-field pass
    assert set(np.unique(ends[1.0][missing])) == {0.0, 1.0}  # p = 1 is one 0/1 draw
    np.testing.assert_allclose(ends[0.3], 0.7 * ends[0.0] + 0.3 * ends[1.0], atol=1e-12)
    assert not np.array_equal(ends[0.3], ends[0.0])


@pytest.mark.parametrize("cls", RBMS)
def test_curve_levels_equal_transform_at_each_level(cls, fitted, digits):
    # the benchmark's curve runs the chain once and blends; it must be transform's output
    X_clean, X_missing = digits
    model = fitted[cls]
    X = X_missing[300:].copy()
    X[:3] = X_clean[300:303]  # rows without a hole are passed through
    levels = [0, 0.25, 0.5, 1]
    curve = model.transform_perception_levels(X, levels)
    assert model.get_params()["perception"] is None
    for level, imputed in zip(levels, curve):
        expected = clone_params(model, perception=level).transform(X)
        np.testing.assert_array_equal(imputed, expected)


def clone_params(model, **params):
    import copy

    return copy.deepcopy(model).set_params(**params)


@pytest.mark.parametrize("bad", [-0.1, 1.5, "high"])
def test_perception_is_validated(bad, digits):
    _, X_missing = digits
    with pytest.raises(ValueError, match="perception"):
        LMRBMImputer(perception=bad, n_epochs=1).fit(X_missing)


def test_grid_search_over_the_knob_with_rmse_and_fid_scorers(digits):
    """Masked RMSE selects the low-distortion end; the scorers run in one multi-metric
    search and the refit model carries the selected knob."""
    X_clean, X_missing = digits
    scoring = {"rmse": MaskedRMSEScorer(fraction=0.2),
               "fid": FIDScorer(X_clean[:300], features=PCA(10).fit(X_clean),
                                image_shape=(8, 8))}
    search = GridSearchCV(
        LMRBMImputer(n_components=32, n_epochs=15, batch_size=32, learning_rate=0.01,
                     rank=None, random_state=0),
        {"perception": [0.0, 0.5, 1.0]}, scoring=scoring, refit="rmse", cv=2,
    ).fit(X_missing[:300])
    assert search.best_params_ == {"perception": 0.0}
    assert search.best_estimator_.perception == 0.0
    rmse = -search.cv_results_["mean_test_rmse"]
    assert rmse[0] < rmse[1] < rmse[2]
    assert np.all(np.isfinite(search.cv_results_["mean_test_fid"]))


# ------------------------------------------------------------ interval coverage
def test_interval_coverage_against_a_plain_loop():
    from skrbm_impute.metrics import interval_coverage

    rng = np.random.RandomState(0)
    X_true = rng.rand(30, 6)
    draws = rng.rand(11, 30, 6)
    missing = rng.rand(30, 6) < 0.5
    hits, widths = [], []
    for i, j in zip(*np.nonzero(missing)):
        column = np.sort(draws[:, i, j])  # 11 draws: the 5 % / 95 % quantiles by hand
        low = column[0] + 0.5 * (column[1] - column[0])
        high = column[9] + 0.5 * (column[10] - column[9])
        hits.append(low <= X_true[i, j] <= high)
        widths.append(high - low)
    coverage, width = interval_coverage(X_true, draws, missing, level=0.9,
                                        return_width=True)
    assert coverage == pytest.approx(np.mean(hits)) and width == pytest.approx(np.mean(widths))
    # draws from the truth's own distribution are calibrated
    truth = rng.rand(4000, 1)
    assert interval_coverage(truth, rng.rand(199, 4000, 1), np.ones((4000, 1), bool)) \
        == pytest.approx(0.9, abs=0.02)


@pytest.mark.parametrize("kwargs, message", [
    ({"level": 1.0}, "level"), ({"draws": np.zeros((1, 2, 2))}, "at least 2"),
    ({"draws": np.zeros((3, 2, 3))}, "shape"), ({"missing": np.zeros((2, 2), bool)}, "no entry"),
])
def test_interval_coverage_rejects_bad_input(kwargs, message):
    from skrbm_impute.metrics import interval_coverage

    args = {"X_true": np.zeros((2, 2)), "draws": np.zeros((3, 2, 2)),
            "missing": np.ones((2, 2), bool), **kwargs}
    with pytest.raises(ValueError, match=message):
        interval_coverage(**args)


def test_interpolation_distortion_is_one_plus_p_squared_times_the_minimum():
    """The documented law behind the knob: with the exact posterior mean x* and a chain
    draw s, E||(1-p) x* + p s - x||² = (1 + p²) E||x* - x||² for x from the posterior."""
    b, W, c = tiny_rbm()
    observed_idx, missing_idx, v_o = [0, 3], [1, 2, 4], np.array([0.3, 1.0])
    v, m, b_t, W_t, c_t = chain_tensors(b, W, c, v_o, observed_idx, missing_idx, 40000)
    draws = rbm_posterior.clamped_gibbs(
        v, m, b_t, W_t, c_t, marginal=True, n_draws=1, burn_in=30, thinning=1,
        generator=torch.Generator().manual_seed(2))[0][:, missing_idx].numpy()
    configs, exact = exact_conditional(b, W, c, v_o, observed_idx, missing_idx)
    truth = configs[np.random.RandomState(0).choice(len(exact), 40000, p=exact)]
    posterior_mean = exact @ configs
    minimum = np.mean(np.sum((posterior_mean - truth) ** 2, axis=1))
    for p in (0.5, 1.0):
        blend = (1 - p) * posterior_mean + p * draws
        mse = np.mean(np.sum((blend - truth) ** 2, axis=1))
        assert mse == pytest.approx((1 + p ** 2) * minimum, rel=0.03)
