"""RBM imputers: the torch core against plain NumPy references, and the estimators."""

import pickle
import warnings

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.exceptions import ConvergenceWarning

from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MeanImputer
from skrbm_impute._numerics import rbm as core
from skrbm_impute.impute._mean import observed_mean

from _rbm_reference import sigmoid, t64, tiny_problem

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The problems here are tiny: extra threads only add synchronisation (and thrash
    on a shared machine).  Restored afterwards for the other test files."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def reference_cd1(V, M, b, c, W, lr, uniforms, *, marginal, correction, lam):
    """Algorithm 1 written out per sample, with the updates summed."""
    u_h, u_v, u_h2 = uniforms
    db, dc, dW = np.zeros_like(b), np.zeros_like(c), np.zeros_like(W)
    for i in range(V.shape[0]):
        v, m = V[i], M[i]
        b_m = sigmoid(b) * m if marginal else np.zeros_like(b)
        h = (u_h[i] < sigmoid((v * (1 - m) + b_m) @ W + c)).astype(float)
        v2 = (u_v[i] < sigmoid(W @ h + b)).astype(float)
        h2 = (u_h2[i] < sigmoid((v2 * (1 - m) + b_m) @ W + c)).astype(float)
        dc += lr * (h - h2)
        db += lr * (v - v2) * (1 - m)
        dW += lr * (np.outer(v * (1 - m), h) - np.outer(v2 * (1 - m), h2))
        if correction:
            db += lr * lam * b_m * (1 - sigmoid(b)) * (W @ (h - h2))
            dW += lr * np.outer(lam * b_m, h - h2)
    return b + db, c + dc, W + dW


def torch_step(V, M, b, c, weights, uniforms, lr, **flags):
    b_t, c_t = t64(b), t64(c)
    w_t = tuple(t64(w) for w in weights) if isinstance(weights, tuple) else t64(weights)
    core.cd1_step(t64(V), t64(M), b_t, w_t, c_t, learning_rate=lr,
                  uniforms=tuple(t64(u) for u in uniforms), **flags)
    w_np = tuple(w.numpy() for w in w_t) if isinstance(w_t, tuple) else w_t.numpy()
    return b_t.numpy(), c_t.numpy(), w_np


FLAGS = {
    "LM": dict(marginal=True, correction=True, scaled=True),
    "LM, lambda=1": dict(marginal=True, correction=True, scaled=False),
    "LM without lines 8-9": dict(marginal=True, correction=False, scaled=False),
    "[5]": dict(marginal=False, correction=False, scaled=False),
}


@pytest.mark.parametrize("variant", list(FLAGS))
@pytest.mark.parametrize("seed", [0, 1])
def test_batched_step_matches_per_sample_numpy(variant, seed):
    V, M, b, c, W, uniforms, lam = tiny_problem(seed)
    f = FLAGS[variant]
    ref_lam = lam if f["scaled"] else np.ones_like(lam)
    expected = reference_cd1(V, M, b, c, W, 0.05, uniforms, marginal=f["marginal"],
                             correction=f["correction"], lam=ref_lam)
    got = torch_step(V, M, b, c, W, uniforms, 0.05, marginal=f["marginal"],
                     gradient_correction=f["correction"],
                     observation_prob=t64(lam) if f["scaled"] else None)
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-12, atol=1e-12)
    # The draws are not degenerate: the update moved every parameter group.
    assert all(np.abs(g - p).max() > 1e-3 for g, p in zip(got, (b, c, W)))


def test_float32_step_matches_float64():
    V, M, b, c, W, uniforms, lam = tiny_problem(3)
    expected = torch_step(V, M, b, c, W, uniforms, 0.05, marginal=True,
                          gradient_correction=True, observation_prob=t64(lam))
    t32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    b32, c32, w32 = t32(b), t32(c), t32(W)
    core.cd1_step(t32(V), t32(M), b32, w32, c32, learning_rate=0.05, marginal=True,
                  gradient_correction=True, observation_prob=t32(lam),
                  uniforms=tuple(t32(u) for u in uniforms))
    for g, e in zip((b32, c32, w32), expected):
        assert g.dtype == torch.float32
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("variant", ["LM", "[5]"])
def test_factorised_step_is_chain_rule_of_full_step(variant):
    V, M, b, c, _, uniforms, lam = tiny_problem(4)
    rng = np.random.RandomState(5)
    A, B = rng.normal(0, 0.7, (7, 3)), rng.normal(0, 0.7, (3, 5))
    f = FLAGS[variant]
    flags = dict(marginal=f["marginal"], gradient_correction=f["correction"],
                 observation_prob=t64(lam) if f["scaled"] else None)
    b_full, c_full, W_new = torch_step(V, M, b, c, A @ B, uniforms, 0.05, **flags)
    b_fac, c_fac, (A_new, B_new) = torch_step(V, M, b, c, (A, B), uniforms, 0.05, **flags)
    delta_W = W_new - A @ B
    np.testing.assert_allclose(A_new - A, delta_W @ B.T, atol=1e-12)
    np.testing.assert_allclose(B_new - B, A.T @ delta_W, atol=1e-12)
    np.testing.assert_allclose(b_fac, b_full, atol=1e-12)
    np.testing.assert_allclose(c_fac, c_full, atol=1e-12)

    # Scaled factor steps (the estimators' 1 / (σ_max(other)² + δ)).
    b_t, c_t, A_t, B_t = t64(b), t64(c), t64(A), t64(B)
    core.cd1_step(t64(V), t64(M), b_t, (A_t, B_t), c_t, learning_rate=0.05,
                  uniforms=tuple(t64(u) for u in uniforms), factor_rates=(0.25, 0.5), **flags)
    np.testing.assert_allclose(A_t.numpy() - A, 0.25 * delta_W @ B.T, atol=1e-12)
    np.testing.assert_allclose(B_t.numpy() - B, 0.5 * A.T @ delta_W, atol=1e-12)

    # A held fixed: only B moves, by Aᵀ ΔW.
    b_t, c_t, A_t, B_t = t64(b), t64(c), t64(A), t64(B)
    core.cd1_step(t64(V), t64(M), b_t, (A_t, B_t), c_t, learning_rate=0.05,
                  uniforms=tuple(t64(u) for u in uniforms), train_visible_factor=False,
                  **flags)
    np.testing.assert_array_equal(A_t.numpy(), A)
    np.testing.assert_allclose(B_t.numpy() - B, A.T @ delta_W, atol=1e-12)


def test_bfloat16_products_approximate_float32():
    V, M, b, c, W, uniforms, lam = tiny_problem(9, n_samples=64, n_visible=30, n_hidden=40)
    W = W * 0.2  # probabilities away from the draws' thresholds as far as possible
    t32 = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    results = []
    for matmul_dtype in (None, torch.bfloat16):
        b_t, c_t, w_t = t32(b), t32(c), t32(W)
        core.cd1_step(t32(V), t32(M), b_t, w_t, c_t, learning_rate=0.01, marginal=True,
                      gradient_correction=True, observation_prob=t32(lam),
                      uniforms=tuple(t32(u) for u in uniforms), matmul_dtype=matmul_dtype)
        assert w_t.dtype == b_t.dtype == torch.float32
        results.append(w_t.numpy() - W)
    exact, rounded = results
    # A draw may flip where a uniform sits within bf16 rounding of its probability.
    assert np.abs(rounded - exact).mean() < 0.05 * np.abs(exact).mean()


def test_spectral_norm_squared_power_iteration():
    rng = np.random.RandomState(3)
    B = rng.normal(size=(6, 9))
    vector = torch.ones(9, dtype=torch.float64) / 3.0
    for _ in range(25):
        estimate = core.spectral_norm_squared(t64(B), vector)
    np.testing.assert_allclose(float(estimate), np.linalg.norm(B, 2) ** 2, rtol=1e-8)
    np.testing.assert_allclose(float(torch.linalg.vector_norm(vector)), 1.0, rtol=1e-12)


def test_init_parameters_copies_the_basis():
    basis = torch.linalg.qr(torch.randn(6, 2, dtype=torch.float64)).Q
    kept = basis.clone()
    _, _, (A, _) = core.init_parameters(np.full(6, 0.3), 4, generator=torch.Generator(),
                                        dtype=torch.float64, device="cpu", visible_basis=basis)
    A.add_(1.0)
    torch.testing.assert_close(basis, kept)


def observed_energy(v, m, b, c, W, h, marginal):
    """Ê_o(v_o, h) (LM-RBM) or the observed energy of ref [5] (no b_m term)."""
    b_m = sigmoid(b) * m if marginal else 0.0
    v_o = v * (1 - m)
    return -b @ v_o - (v_o + b_m) @ W @ h - c @ h


@pytest.mark.parametrize("marginal", [True, False], ids=["LM", "[5]"])
def test_update_is_energy_gradient_finite_differences(marginal):
    """With λ = 1, lines 6-9 are -η ∇θ [Ê_o(v_o, h) - Ê_o(v'_o, h')] for the drawn
    (h, v', h'): checked by central differences.  Uniforms of 0 or 1 impose the draws."""
    rng = np.random.RandomState(6)
    n_v, n_h = 5, 4
    v = np.where(rng.rand(n_v) < 0.4, 0.0, rng.rand(n_v))
    m = np.array([1.0, 0.0, 1.0, 0.0, 0.0])
    v = v * (1 - m)
    h, v2, h2 = ((rng.rand(size) < 0.5) * 1.0 for size in (n_h, n_v, n_h))
    b, c, W = rng.normal(0, 1, n_v), rng.normal(0, 1, n_h), rng.normal(0, 0.3, (n_v, n_h))
    uniforms = tuple((1.0 - x)[None] for x in (h, v2, h2))  # u=0 gives 1, u=1 gives 0
    lr = 0.1
    b_new, c_new, W_new = torch_step(v[None], m[None], b, c, W, uniforms, lr,
                                     marginal=marginal, gradient_correction=marginal)

    def objective(theta):
        bb, cc, ww = theta[:n_v], theta[n_v:n_v + n_h], theta[n_v + n_h:].reshape(n_v, n_h)
        return (observed_energy(v2, m, bb, cc, ww, h2, marginal)
                - observed_energy(v, m, bb, cc, ww, h, marginal))

    theta = np.concatenate([b, c, W.ravel()])
    eps = 1e-6
    grad = np.array([(objective(theta + eps * e) - objective(theta - eps * e)) / (2 * eps)
                     for e in np.eye(theta.size)])
    update = np.concatenate([b_new - b, c_new - c, (W_new - W).ravel()])
    np.testing.assert_allclose(update, lr * grad, atol=1e-8)


def test_impute_and_hidden_probabilities_match_formulas():
    V, M, b, c, W, _, _ = tiny_problem(7)
    p_h = core.hidden_probabilities(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=True)
    expected_h = sigmoid((V + sigmoid(b) * M) @ W + c)
    np.testing.assert_allclose(p_h.numpy(), expected_h, rtol=1e-12)
    p_h5 = core.hidden_probabilities(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=False)
    np.testing.assert_allclose(p_h5.numpy(), sigmoid(V @ W + c), rtol=1e-12)


def reference_impute(V, M, b, c, W, mode, u_h, u_v, marginal):
    """The three imputation modes written out per sample with plain NumPy."""
    out = np.empty_like(V)
    for i in range(V.shape[0]):
        b_m = sigmoid(b) * M[i] if marginal else 0.0
        p_h = sigmoid((V[i] * (1 - M[i]) + b_m) @ W + c)
        h = p_h if mode == "mean-field" else (u_h[i] < p_h).astype(float)
        p_v = sigmoid(W @ h + b)
        out[i] = (u_v[i] < p_v).astype(float) if mode == "sample" else p_v
    return out


@pytest.mark.parametrize("mode", core.IMPUTATION_MODES)
@pytest.mark.parametrize("marginal", [True, False], ids=["LM", "[5]"])
def test_imputation_modes_match_numpy(mode, marginal):
    V, M, b, c, W, (u_h, u_v, _), _ = tiny_problem(7)
    expected = reference_impute(V, M, b, c, W, mode, u_h, u_v, marginal)
    got = core.impute(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=marginal, mode=mode,
                      uniforms=(t64(u_h), t64(u_v))).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15)
    if mode == "sample":
        assert set(np.unique(got)) == {0.0, 1.0}
    else:
        assert ((got > 0) & (got < 1)).all()
    # Through the factors W = A B the same formulas hold.
    A, B = np.linalg.qr(W)[0], np.linalg.qr(W)[1]
    got_factored = core.impute(t64(V), t64(M), t64(b), (t64(A), t64(B)), t64(c),
                               marginal=marginal, mode=mode,
                               uniforms=(t64(u_h), t64(u_v))).numpy()
    np.testing.assert_allclose(got_factored, expected, rtol=1e-10, atol=1e-12)


def test_imputation_mode_is_validated():
    V, M, b, c, W, _, _ = tiny_problem(7)
    with pytest.raises(ValueError, match="mode must be one of"):
        core.impute(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=True, mode="gibbs")


def reference_momentum_steps(V, M, b, c, W, lr, uniform_list, momentum, decay, lam):
    """Hinton's momentum and weight cost around Algorithm 1's step, in NumPy:
    u <- momentum u + lr (Δθ - decay W), θ <- θ + u (no decay on the biases)."""
    u_b, u_c, u_W = np.zeros_like(b), np.zeros_like(c), np.zeros_like(W)
    for uniforms in uniform_list:
        b1, c1, W1 = reference_cd1(V, M, b, c, W, lr, uniforms, marginal=True,
                                   correction=True, lam=lam)
        u_b = momentum * u_b + (b1 - b)
        u_c = momentum * u_c + (c1 - c)
        u_W = momentum * u_W + (W1 - W) - lr * decay * W
        b, c, W = b + u_b, c + u_c, W + u_W
    return b, c, W


@pytest.mark.parametrize("momentum, decay", [(0.9, 0.0), (0.5, 0.1), (0.0, 0.1)])
def test_momentum_and_weight_decay_match_numpy(momentum, decay):
    V, M, b, c, W, uniforms, lam = tiny_problem(11)
    rng = np.random.RandomState(12)
    uniform_list = [uniforms] + [tuple(rng.rand(*u.shape) for u in uniforms) for _ in range(2)]
    expected = reference_momentum_steps(V, M, b, c, W, 0.05, uniform_list, momentum, decay,
                                        lam)
    b_t, c_t, w_t = t64(b), t64(c), t64(W)
    velocity = [torch.zeros_like(t) for t in (w_t, b_t, c_t)] if momentum else None
    for u in uniform_list:
        core.cd1_step(t64(V), t64(M), b_t, w_t, c_t, learning_rate=0.05, marginal=True,
                      gradient_correction=True, observation_prob=t64(lam), momentum=momentum,
                      velocity=velocity, weight_decay=decay,
                      uniforms=tuple(t64(x) for x in u))
    for g, e in zip((b_t, c_t, w_t), expected):
        np.testing.assert_allclose(g.numpy(), e, rtol=1e-12, atol=1e-12)
    # The aids changed the trajectory (the test would not notice a dropped velocity).
    plain = reference_momentum_steps(V, M, b, c, W, 0.05, uniform_list, 0.0, 0.0, lam)
    assert np.abs(plain[2] - expected[2]).max() > 1e-4


def test_principal_directions_are_leading_singular_vectors():
    x = torch.randn(50, 8, dtype=torch.float64)
    basis = core.principal_directions(x, 3).numpy()
    np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-12)
    _, _, vt = np.linalg.svd(x.numpy())
    np.testing.assert_allclose(np.abs(basis.T @ vt[:3].T), np.eye(3), atol=1e-8)


def test_principal_directions_of_float32_data_are_computed_in_float64():
    # Singular values from 1 down to 1e-5: the Gram matrix spans 10 decades, where a
    # float32 eigendecomposition of it loses the smaller directions to rounding.
    rng = np.random.RandomState(0)
    u = np.linalg.qr(rng.randn(200, 20))[0]
    v = np.linalg.qr(rng.randn(20, 20))[0]
    x = ((u * np.logspace(0, -5, 20)) @ v.T).astype(np.float32)
    basis = core.principal_directions(torch.from_numpy(x), 15)
    assert basis.dtype == torch.float32
    _, _, vt = np.linalg.svd(x.astype(np.float64))
    overlap = np.abs(basis.numpy().astype(np.float64).T @ vt[:15].T)
    np.testing.assert_allclose(overlap, np.eye(15), atol=1e-6)  # float32 Gram: 0.5


def test_principal_directions_fall_back_to_svd(monkeypatch):
    x = torch.randn(40, 6, dtype=torch.float32)
    expected = core.principal_directions(x, 2).numpy()

    def no_convergence(*args, **kwargs):
        raise torch.linalg.LinAlgError("linalg.eigh: The algorithm failed to converge")

    monkeypatch.setattr(torch.linalg, "eigh", no_convergence)
    basis = core.principal_directions(x, 2).numpy()
    np.testing.assert_allclose(np.abs(basis.T @ expected), np.eye(2), atol=1e-5)


# ---------------------------------------------------------------- estimators

def masked_digits(rate=0.3, seed=0):
    X = load_digits().data / 16.0
    rng = np.random.RandomState(seed)
    X_missing = X.copy()
    X_missing[rng.rand(*X.shape) < rate] = np.nan
    return X, X_missing


ESTIMATORS = [MaskedRBMImputer, LMRBMImputer]


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("rank", [None, "auto"])
def test_learns_better_than_mean_on_digits(cls, rank):
    X, X_missing = masked_digits()
    model = cls(n_components=64, n_epochs=30, learning_rate=1e-3, rank=rank, random_state=0)
    imputed = model.fit_transform(X_missing)
    holes = np.isnan(X_missing)
    mean_imputed = MeanImputer().fit_transform(X_missing)
    rmse = np.sqrt(np.mean((imputed - X)[holes] ** 2))
    mean_rmse = np.sqrt(np.mean((mean_imputed - X)[holes] ** 2))
    assert rmse < 0.9 * mean_rmse
    assert model.n_iter_ == 30
    expected_rank = int(round((~holes).sum(axis=1).mean()))
    assert model.rank_ == (None if rank is None else expected_rank)
    assert model.components_.shape == (64, 64)


def test_rank_resolution():
    X, X_missing = masked_digits(rate=0.5)
    expected = int(round((~np.isnan(X_missing)).sum(axis=1).mean()))
    model = LMRBMImputer(n_components=40, n_epochs=1, rank="auto", train_visible_factor=False,
                         random_state=0).fit(X_missing)
    assert model.rank_ == expected
    assert model.visible_factor_.shape == (64, expected)
    assert model.hidden_factor_.shape == (expected, 40)
    np.testing.assert_allclose(model.components_,
                               (model.visible_factor_ @ model.hidden_factor_).T, atol=1e-6)
    # A held fixed stays the leading principal directions of the mean-filled data.
    holes = np.isnan(X_missing)
    filled = np.where(holes, np.nanmean(X_missing, axis=0), X_missing)
    _, _, vt = np.linalg.svd(filled, full_matrices=False)
    overlap = vt[:expected] @ model.visible_factor_
    np.testing.assert_allclose(overlap.T @ overlap, np.eye(expected), atol=1e-3)
    # A rank that restricts nothing trains a full W.
    assert LMRBMImputer(n_components=8, n_epochs=1, rank=50).fit(X_missing).rank_ is None


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_train_visible_factor_false_keeps_a_fixed(cls):
    _, X_missing = masked_digits(rate=0.5)
    params = dict(n_components=40, n_epochs=3, rank=10, learning_rate=1e-3, random_state=0)
    fixed = cls(train_visible_factor=False, **params).fit(X_missing)
    trained = cls(**params).fit(X_missing)
    start = cls(**{**params, "n_epochs": 0}).fit(X_missing).visible_factor_
    np.testing.assert_array_equal(fixed.visible_factor_, start)
    assert np.abs(trained.visible_factor_ - start).max() > 1e-4
    assert np.isfinite(trained.transform(X_missing)).all()


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_transform_hidden_formula(cls):
    _, X_missing = masked_digits()
    model = cls(n_components=16, n_epochs=1, rank=None, random_state=0).fit(X_missing)
    m = np.isnan(X_missing)
    v_o = np.where(m, 0.0, X_missing)
    b_m = sigmoid(model.intercept_visible_) * m if cls is LMRBMImputer else 0.0
    expected = sigmoid((v_o + b_m) @ model.components_.T + model.intercept_hidden_)
    hidden = model.transform_hidden(X_missing)
    assert hidden.shape == (len(X_missing), 16) and hidden.dtype == np.float64
    np.testing.assert_allclose(hidden, expected, rtol=1e-4, atol=1e-6)
    assert model.transform_hidden(X_missing.astype(np.float32)).dtype == np.float32


def test_lm_and_masked_differ_and_ablations_are_reachable():
    _, X_missing = masked_digits()
    kw = dict(n_components=16, n_epochs=2, rank=None, random_state=0)
    outputs = [est.fit(X_missing).transform(X_missing) for est in (
        MaskedRBMImputer(**kw), LMRBMImputer(**kw),
        LMRBMImputer(gradient_correction=False, **kw),
        LMRBMImputer(observation_scaling=False, **kw))]
    for i in range(len(outputs)):
        for j in range(i + 1, len(outputs)):
            assert not np.allclose(outputs[i], outputs[j])


def test_bfloat16_training_learns():
    X, X_missing = masked_digits()
    model = LMRBMImputer(n_components=64, n_epochs=30, learning_rate=1e-3, rank=None,
                         matmul_dtype="bfloat16", random_state=0)
    imputed = model.fit_transform(X_missing)
    holes = np.isnan(X_missing)
    mean_imputed = MeanImputer().fit_transform(X_missing)
    assert model.components_.dtype == np.float32
    assert (np.sqrt(np.mean((imputed - X)[holes] ** 2))
            < 0.9 * np.sqrt(np.mean((mean_imputed - X)[holes] ** 2)))


@pytest.mark.parametrize("imputation", ["mean-field", "sample-hidden", "sample"])
def test_transform_is_deterministic_and_pickles(imputation):
    X, X_missing = masked_digits()
    model = LMRBMImputer(n_components=16, n_epochs=1, imputation=imputation,
                         random_state=0).fit(X_missing)
    first = model.transform(X_missing)
    np.testing.assert_array_equal(first, model.transform(X_missing))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(first, clone.transform(X_missing))
    holes = np.isnan(X_missing)
    values = np.unique(first[holes])
    if imputation == "sample":
        assert set(values) <= {0.0, 1.0}
    else:
        assert len(values) > 100 and ((values > 0) & (values < 1)).all()
    assert isinstance(model.components_, np.ndarray)


def test_same_seed_same_model():
    _, X_missing = masked_digits()
    a = MaskedRBMImputer(n_components=8, n_epochs=1, random_state=3).fit(X_missing)
    b = MaskedRBMImputer(n_components=8, n_epochs=1, random_state=3).fit(X_missing)
    np.testing.assert_array_equal(a.components_, b.components_)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_values_outside_unit_interval_raise(cls):
    X = np.array([[0.2, np.nan, 1.5], [0.1, 0.3, 0.4]])
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        cls(n_components=2, n_epochs=1).fit(X)
    model = cls(n_components=2, n_epochs=1).fit(np.clip(X, 0, 1))
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        model.transform(X - 1)


def mean_rmse_ratio(model, X, X_missing):
    holes = np.isnan(X_missing)
    imputed = model.fit_transform(X_missing)
    mean_imputed = MeanImputer().fit_transform(X_missing)
    return (np.sqrt(np.mean((imputed - X)[holes] ** 2))
            / np.sqrt(np.mean((mean_imputed - X)[holes] ** 2)))


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("learning_rate", [1e3, 1e20])
def test_too_large_learning_rate_backs_off_with_a_warning(cls, learning_rate):
    """A learning rate that saturates the weights (finite, but garbage imputations)
    or overflows them is divided by 10 until training is stable; the warning names
    the rate used, and the model is then better than the Mean imputer."""
    X, X_missing = masked_digits()
    model = cls(n_components=32, n_epochs=10, batch_size=64, learning_rate=learning_rate,
                random_state=0)
    with pytest.warns(ConvergenceWarning, match=r"epoch \d+ of 10.*Pass learning_rate="):
        ratio = mean_rmse_ratio(model, X, X_missing)
    assert model.learning_rate_ < 1e-1
    assert model.n_iter_ == 10
    assert ratio < 0.9


def test_stable_learning_rate_gives_no_warning_and_keeps_the_rate():
    _, X_missing = masked_digits()
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        model = LMRBMImputer(n_components=16, n_epochs=3, learning_rate=1e-3,
                             random_state=0).fit(X_missing)
    assert model.learning_rate_ == 1e-3


def test_training_that_always_diverges_raises(monkeypatch):
    from skrbm_impute._numerics import rbm_training

    monkeypatch.setattr(rbm_training, "EPOCH_RATIO", 0.0)  # no epoch is ever good enough
    _, X_missing = masked_digits()
    model = LMRBMImputer(n_components=4, n_epochs=2, learning_rate=1e-2, random_state=0)
    with pytest.warns(ConvergenceWarning), pytest.raises(FloatingPointError,
                                                         match="diverged in epoch 1 of 2"):
        model.fit(X_missing[:100])


def test_without_aids_the_fit_is_the_plain_algorithm_1_loop():
    """momentum=0, weight_decay=0, constant rate, sampled statistics: the fitted
    weights are bit for bit those of a bare loop of Algorithm 1 steps (the aids leave
    the plain step alone)."""
    from skrbm_impute.utils._validation import check_random_seed

    _, X_missing = masked_digits()
    X_missing = X_missing[:300]
    model = LMRBMImputer(n_components=12, n_epochs=3, batch_size=50, learning_rate=5e-3,
                         momentum=0.0, learning_rate_schedule="constant",
                         cd_statistics="sampled", random_state=4).fit(X_missing)
    missing = np.isnan(X_missing)
    generator = torch.Generator().manual_seed(check_random_seed(4))
    means = observed_mean(X_missing, missing, fill_value=0.5)
    b, c, W = core.init_parameters(means, 12, generator=generator, dtype=torch.float32,
                                   device="cpu")
    v = torch.as_tensor(np.where(missing, 0.0, X_missing), dtype=torch.float32)
    m = torch.as_tensor(missing, dtype=torch.float32)
    lam = torch.as_tensor(1.0 - missing.mean(axis=0), dtype=torch.float32)
    for _ in range(3):
        order = torch.randperm(len(v), generator=generator)
        for start in range(0, len(v), 50):
            idx = order[start:start + 50]
            core.cd1_step(v[idx], m[idx], b, W, c, learning_rate=5e-3, marginal=True,
                          gradient_correction=True, observation_prob=lam,
                          generator=generator)
    np.testing.assert_array_equal(model.components_, W.T.numpy())
    np.testing.assert_array_equal(model.intercept_visible_, b.numpy())


def test_learning_rate_schedule_and_momentum_warmup(monkeypatch):
    import skrbm_impute.impute._rbm as rbm_module

    seen = []
    step = core.cd1_step

    def recording_step(*args, **kwargs):
        seen.append((kwargs["learning_rate"], kwargs["momentum"]))
        return step(*args, **kwargs)

    monkeypatch.setattr(rbm_module.core, "cd1_step", recording_step)
    _, X_missing = masked_digits()
    X_missing = X_missing[:40]  # 4 updates per epoch
    LMRBMImputer(n_components=4, n_epochs=7, batch_size=10, learning_rate=1e-2,
                 learning_rate_schedule="linear", warmup_epochs=1, momentum=0.9,
                 random_state=0).fit(X_missing)
    rates, momenta = np.array(seen).T
    n = 28
    expected = 1e-2 * (1 - np.arange(n) / n)
    expected[:4] *= np.arange(1, 5) / 4  # warm-up over the first epoch
    np.testing.assert_allclose(rates, expected, rtol=1e-12)
    np.testing.assert_array_equal(momenta, [0.5] * 4 + [0.9] * 24)  # 0.5 for one epoch


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_momentum_learns_and_differs_from_the_plain_step(cls):
    X, X_missing = masked_digits()
    kw = dict(n_components=64, n_epochs=15, random_state=0)
    plain = cls(learning_rate=1e-2, momentum=0.0, learning_rate_schedule="constant", **kw)
    kw["learning_rate_schedule"] = "constant"
    with_momentum = cls(learning_rate=1e-3, momentum=0.9, weight_decay=1e-4, **kw)
    assert mean_rmse_ratio(with_momentum, X, X_missing) < 0.9
    assert not np.allclose(plain.fit(X_missing).components_, with_momentum.components_)


def test_n_threads_applies_during_fit_and_is_restored(monkeypatch):
    import skrbm_impute.impute._rbm as rbm_module
    import skrbm_impute.utils._torch as torch_utils

    seen = []
    step = core.cd1_step

    def recording_step(*args, **kwargs):
        seen.append(torch.get_num_threads())
        return step(*args, **kwargs)

    monkeypatch.setattr(rbm_module.core, "cd1_step", recording_step)
    _, X_missing = masked_digits()
    torch.set_num_threads(2)
    model = LMRBMImputer(n_components=4, n_epochs=1, n_threads=1, random_state=0)
    model.fit(X_missing[:100])
    assert set(seen) == {1}
    assert torch.get_num_threads() == 2
    seen.clear()
    LMRBMImputer(n_components=4, n_epochs=1, n_threads=None).fit(X_missing[:100])
    assert set(seen) == {2}
    # "auto": never more than torch's setting, never fewer than one.
    assert 1 <= torch_utils.resolve_threads("auto") <= 2
    monkeypatch.setattr(torch_utils, "cores_busy_elsewhere", lambda: 64.0)
    assert torch_utils.resolve_threads("auto") == 1
    monkeypatch.setattr(torch_utils, "cores_busy_elsewhere", lambda: 0.0)
    assert torch_utils.resolve_threads("auto") == min(2, len(torch_utils.os.sched_getaffinity(0)))


def test_auto_threads_count_other_processes_cpu_time_not_this_ones(monkeypatch):
    import skrbm_impute.utils._torch as torch_utils

    ticks = iter([(1000, 50), (1010, 52)])  # 10 busy ticks in the window, 2 of them ours
    clock = iter([0.0, 0.05, 0.05, 1.0])
    monkeypatch.setattr(torch_utils, "_cpu_ticks", lambda: next(ticks))
    monkeypatch.setattr(torch_utils.time, "sleep", lambda seconds: None)
    monkeypatch.setattr(torch_utils.time, "monotonic", lambda: next(clock))
    monkeypatch.setattr(torch_utils.os, "sysconf", lambda name: 100)
    monkeypatch.setattr(torch_utils, "_busy_cache", {"at": -float("inf"), "cores": 0.0})
    assert torch_utils.cores_busy_elsewhere() == pytest.approx(8 / 100 / 0.05)  # 1.6 cores
    assert torch_utils.cores_busy_elsewhere() == pytest.approx(1.6)  # reused, not re-read
    # without /proc: the 1-minute load average
    monkeypatch.setattr(torch_utils, "_busy_cache", {"at": -float("inf"), "cores": 0.0})
    monkeypatch.setattr(torch_utils, "_cpu_ticks", lambda: None)
    monkeypatch.setattr(torch_utils.time, "monotonic", lambda: 5.0)
    monkeypatch.setattr(torch_utils.os, "getloadavg", lambda: (3.0, 0.0, 0.0))
    assert torch_utils.cores_busy_elsewhere() == 3.0


@pytest.mark.skipif(not __import__("os").path.exists("/proc/self/stat"), reason="needs /proc")
def test_cpu_ticks_reads_proc():
    import skrbm_impute.utils._torch as torch_utils

    busy, own = torch_utils._cpu_ticks()
    sum(i * i for i in range(2_000_000))  # spend some CPU time in this process
    busy_after, own_after = torch_utils._cpu_ticks()
    assert own_after > own and busy_after >= busy + (own_after - own) - 1


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_transform_hidden_follows_set_output(cls):
    pd = pytest.importorskip("pandas")
    _, X_missing = masked_digits()
    frame = pd.DataFrame(X_missing[:30], index=np.arange(100, 130))
    model = cls(n_components=5, n_epochs=1, random_state=0).fit(frame)
    plain = model.transform_hidden(frame)
    assert isinstance(plain, np.ndarray)
    model.set_output(transform="pandas")
    hidden = model.transform_hidden(frame)
    assert isinstance(hidden, pd.DataFrame)
    assert list(hidden.columns) == [f"hidden{i}" for i in range(5)]
    assert list(hidden.index) == list(frame.index)
    np.testing.assert_array_equal(hidden.to_numpy(), plain)


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_learned_visible_factor_is_stable_and_learns(cls):
    """Both factors learn (ref [5]) with the scaled factor steps, without a back-off."""
    X, X_missing = masked_digits()
    kw = dict(n_components=64, n_epochs=30, rank="auto", learning_rate=1e-3, random_state=0)
    model = cls(**kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        ratio = mean_rmse_ratio(model, X, X_missing)
    start = cls(**{**kw, "n_epochs": 0}).fit(X_missing).visible_factor_
    assert np.abs(model.visible_factor_ - start).max() > 1e-2
    assert ratio < 0.9


@pytest.mark.skipif(torch.cuda.is_available(), reason="tests the error without CUDA")
def test_cuda_request_without_cuda_raises():
    with pytest.raises(ValueError, match="CUDA is not available"):
        LMRBMImputer(n_components=4, n_epochs=1, device="cuda").fit(np.full((3, 4), 0.5))


# ---------------------------------------------------------------- CUDA

@needs_cuda
@pytest.mark.parametrize("variant", ["LM", "[5]"])
@pytest.mark.parametrize("factorised", [False, True])
def test_cuda_step_matches_cpu(variant, factorised):
    V, M, b, c, W, uniforms, lam = tiny_problem(8)
    f = FLAGS[variant]
    weights = (W[:, :3], np.ones((3, 5)) * 0.1) if factorised else W
    results = []
    for device in ("cpu", "cuda"):
        d = lambda a: torch.tensor(a, dtype=torch.float64, device=device)  # noqa: E731
        b_t, c_t = d(b), d(c)
        w_t = tuple(d(w) for w in weights) if factorised else d(weights)
        core.cd1_step(d(V), d(M), b_t, w_t, c_t, learning_rate=0.05, marginal=f["marginal"],
                      gradient_correction=f["correction"],
                      observation_prob=d(lam) if f["scaled"] else None,
                      uniforms=tuple(d(u) for u in uniforms))
        flat = [b_t, c_t, *(w_t if factorised else (w_t,))]
        results.append([t.cpu().numpy() for t in flat])
    for cpu, cuda in zip(*results):
        np.testing.assert_allclose(cuda, cpu, rtol=1e-10, atol=1e-12)


@needs_cuda
@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("rank", [None, "auto"])
def test_cuda_fit_pickles_to_cpu(cls, rank):
    X, X_missing = masked_digits()
    model = cls(n_components=32, n_epochs=3, learning_rate=4e-3, rank=rank, device="cuda",
                random_state=0).fit(X_missing)
    assert model.device_.type == "cuda"
    assert isinstance(model.intercept_visible_, np.ndarray)
    on_cuda = model.transform(X_missing)
    assert np.isfinite(on_cuda).all()
    model.set_params(device="cpu")
    on_cpu = model.transform(X_missing)
    np.testing.assert_allclose(on_cpu, on_cuda, atol=1e-5)
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(clone.transform(X_missing), on_cpu)
    np.testing.assert_array_equal(clone.transform_hidden(X_missing),
                                  model.transform_hidden(X_missing))


# ------------------------------------------------- the training loop's pieces
from skrbm_impute._numerics import rbm_training  # noqa: E402


def test_learning_rate_schedule_warm_up_and_linear_decay():
    constant = rbm_training.LearningRateSchedule("constant", n_epochs=3, n_batches=4)
    assert [constant.rate(0.1, step) for step in range(12)] == [0.1] * 12
    linear = rbm_training.LearningRateSchedule("linear", n_epochs=2, n_batches=5)
    np.testing.assert_allclose([linear.rate(1.0, s) for s in range(10)],
                               1 - np.arange(10) / 10, rtol=1e-15)
    warm = rbm_training.LearningRateSchedule("constant", n_epochs=4, n_batches=2,
                                             warmup_epochs=2)
    np.testing.assert_allclose([warm.rate(2.0, s) for s in range(6)],
                               [0.5, 1.0, 1.5, 2.0, 2.0, 2.0], rtol=1e-15)


def test_epoch_momentum_is_capped_for_the_first_epochs():
    n = rbm_training.INITIAL_MOMENTUM_EPOCHS
    assert [rbm_training.epoch_momentum(0.9, e) for e in range(n + 2)] == \
        [rbm_training.INITIAL_MOMENTUM] * n + [0.9, 0.9]
    assert rbm_training.epoch_momentum(0.2, 0) == 0.2  # a smaller momentum is kept


def test_divergence_guard_thresholds():
    v = torch.tensor([[1.0, 0.0], [1.0, 0.0]])
    m = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    guard = rbm_training.DivergenceGuard.from_initial_model(v, m, torch.zeros(2))
    assert guard.initial_error == pytest.approx(0.25)  # sigmoid(0) = 0.5 everywhere
    # data the initial model already fits get the floor
    fitted = rbm_training.DivergenceGuard.from_initial_model(
        torch.full((2, 2), 0.5), torch.zeros(2, 2), torch.zeros(2))
    assert fitted.initial_error == rbm_training.MIN_INITIAL_ERROR
    limit = rbm_training.CHUNK_RATIO * 0.25
    assert not guard.chunk_diverged(limit * 10 * 0.99, 10)
    assert guard.chunk_diverged(limit * 10 * 1.01, 10)
    assert guard.chunk_diverged(float("nan"), 10) and guard.chunk_diverged(float("inf"), 1)
    assert not guard.epoch_diverged(rbm_training.EPOCH_RATIO * 0.25)
    assert guard.epoch_diverged(rbm_training.EPOCH_RATIO * 0.25 * 1.01)
    assert guard.collapsed(0.001) and guard.collapsed(0.999) and not guard.collapsed(0.3)


def test_backed_off_rate_divides_down_to_the_floor():
    assert rbm_training.backed_off_rate(1e-3) == pytest.approx(1e-4)
    assert rbm_training.backed_off_rate(5e-10) is None


def _tiny_state(momentum=0.9, rank=None):
    generator = torch.Generator().manual_seed(0)
    X = torch.rand(20, 6, generator=generator)
    missing = (torch.rand(20, 6, generator=generator) < 0.3).float()
    v = X * (1 - missing)
    basis = core.principal_directions(v, rank) if rank else None
    b, c, W = core.init_parameters(np.full(6, 0.5), 4, generator=generator,
                                   dtype=torch.float32, device="cpu", visible_basis=basis)
    state = rbm_training.TrainingState.start(v, missing, b, c, W, generator=generator,
                                             learning_rate=0.01, momentum=momentum)
    options = rbm_training.TrainingOptions(
        n_epochs=4, batch_size=5,
        schedule=rbm_training.LearningRateSchedule("constant", 4, 4),
        marginal=True, gradient_correction=True, momentum=momentum)
    return state, options


@pytest.mark.parametrize("rank", [None, 2])
def test_training_state_restart_restores_the_initial_parameters(rank):
    state, options = _tiny_state(rank=rank)
    initial = [p.clone() for p in state.params]
    assert rbm_training.run_epoch(state, options) is not None
    assert not all(torch.equal(p, q) for p, q in zip(state.params, initial))
    assert any(bool(u.abs().sum() > 0) for u in state.velocity)
    state.epoch = 3
    state.restart(0.001)
    assert all(torch.equal(p, q) for p, q in zip(state.params, initial))
    assert all(bool(u.abs().sum() == 0) for u in state.velocity)
    assert (state.epoch, state.learning_rate) == (0, 0.001)
    assert len(state.params) == (4 if rank else 3)


def test_train_calls_the_epoch_hook_and_stops_when_it_says_so():
    state, options = _tiny_state()
    seen = []

    def on_epoch_end(s, error):
        seen.append((s.epoch, error))
        return s.epoch == 2

    rbm_training.train(state, options, on_diverged=pytest.fail, on_epoch_end=on_epoch_end)
    assert [epoch for epoch, _ in seen] == [1, 2] and state.epoch == 2
    assert all(np.isfinite(error) and error > 0 for _, error in seen)


def test_train_restarts_from_the_start_at_the_rate_on_diverged_returns(monkeypatch):
    state, options = _tiny_state()
    outcomes = iter([0.1, None, 0.1, 0.1, 0.1, 0.1])  # the second epoch diverges
    monkeypatch.setattr(rbm_training, "run_epoch", lambda s, o: next(outcomes))
    rates = []

    def on_diverged(s):
        rates.append((s.epoch, s.learning_rate))
        return s.learning_rate / 2

    rbm_training.train(state, options, on_diverged=on_diverged)
    assert rates == [(1, 0.01)]  # diverged in the second epoch, at the first rate
    assert (state.epoch, state.learning_rate) == (4, 0.005)
