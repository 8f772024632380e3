"""RBM imputers: the torch core against plain NumPy references, and the estimators."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MeanImputer
from skrbm_impute._numerics import rbm as core

needs_cuda = pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")


@pytest.fixture(autouse=True)
def one_torch_thread():
    """The problems here are tiny: extra threads only add synchronisation (and thrash
    on a shared machine).  Restored afterwards for the other test files."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def reference_cd1(V, M, b, c, W, lr, uniforms, *, marginal, correction, lam):
    """Algorithm 1 written out per sample, with the updates summed (spec §2.1)."""
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


def tiny_problem(seed=0, n_samples=6, n_visible=7, n_hidden=5):
    rng = np.random.RandomState(seed)
    V = rng.rand(n_samples, n_visible)
    M = (rng.rand(n_samples, n_visible) < 0.4).astype(float)
    V = np.where(M == 1, 0.0, V)  # the core's contract: holes are 0
    b, c = rng.normal(0, 1, n_visible), rng.normal(0, 1, n_hidden)
    W = rng.normal(0, 0.5, (n_visible, n_hidden))
    uniforms = (rng.rand(n_samples, n_hidden), rng.rand(n_samples, n_visible),
                rng.rand(n_samples, n_hidden))
    lam = rng.uniform(0.2, 1.0, n_visible)
    return V, M, b, c, W, uniforms, lam


def t64(a):
    return torch.tensor(a, dtype=torch.float64)


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

    # The preconditioned (damped ScaledGD) factor steps the estimators use.
    P_A, P_B = (p.numpy() for p in core.factor_preconditioners(t64(A), t64(B), 0.1))
    np.testing.assert_allclose(P_A, np.linalg.inv(A.T @ A + 0.1 * np.eye(3)), atol=1e-10)
    np.testing.assert_allclose(P_B, np.linalg.inv(B @ B.T + 0.1 * np.eye(3)), atol=1e-10)
    b_t, c_t, A_t, B_t = t64(b), t64(c), t64(A), t64(B)
    core.cd1_step(t64(V), t64(M), b_t, (A_t, B_t), c_t, learning_rate=0.05,
                  uniforms=tuple(t64(u) for u in uniforms),
                  factor_preconditioners=(t64(P_A), t64(P_B)), **flags)
    np.testing.assert_allclose(A_t.numpy() - A, delta_W @ B.T @ P_B, atol=1e-12)
    np.testing.assert_allclose(B_t.numpy() - B, P_A @ A.T @ delta_W, atol=1e-12)

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
    v_hat = core.impute(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=True)
    np.testing.assert_allclose(v_hat.numpy(), sigmoid(expected_h @ W.T + b), rtol=1e-12)
    p_h5 = core.hidden_probabilities(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=False)
    np.testing.assert_allclose(p_h5.numpy(), sigmoid(V @ W + c), rtol=1e-12)
    g = torch.Generator().manual_seed(0)
    sampled = core.impute(t64(V), t64(M), t64(b), t64(W), t64(c), marginal=True, sample=True,
                          generator=g).numpy()
    assert set(np.unique(sampled)) <= {0.0, 1.0}


def test_principal_directions_are_leading_singular_vectors():
    x = torch.randn(50, 8, dtype=torch.float64)
    basis = core.principal_directions(x, 3).numpy()
    np.testing.assert_allclose(basis.T @ basis, np.eye(3), atol=1e-12)
    _, _, vt = np.linalg.svd(x.numpy())
    np.testing.assert_allclose(np.abs(basis.T @ vt[:3].T), np.eye(3), atol=1e-8)


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
    model = cls(n_components=64, n_epochs=30, learning_rate=1e-2, rank=rank, random_state=0)
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
    model = LMRBMImputer(n_components=40, n_epochs=1, random_state=0).fit(X_missing)
    assert model.rank_ == expected
    assert model.visible_factor_.shape == (64, expected)
    assert model.hidden_factor_.shape == (expected, 40)
    np.testing.assert_allclose(model.components_,
                               (model.visible_factor_ @ model.hidden_factor_).T, atol=1e-6)
    # A stays the leading principal directions of the mean-filled data; B learnt.
    holes = np.isnan(X_missing)
    filled = np.where(holes, np.nanmean(X_missing, axis=0), X_missing)
    _, _, vt = np.linalg.svd(filled, full_matrices=False)
    overlap = vt[:expected] @ model.visible_factor_
    np.testing.assert_allclose(overlap.T @ overlap, np.eye(expected), atol=1e-3)
    # A rank that restricts nothing trains a full W.
    assert LMRBMImputer(n_components=8, n_epochs=1, rank=50).fit(X_missing).rank_ is None


@pytest.mark.parametrize("cls", ESTIMATORS)
def test_train_visible_factor_moves_a_off_its_starting_directions(cls):
    _, X_missing = masked_digits(rate=0.5)
    params = dict(n_components=40, n_epochs=3, rank=10, learning_rate=1e-3, random_state=0)
    fixed = cls(**params).fit(X_missing)
    trained = cls(train_visible_factor=True, **params).fit(X_missing)
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
    model = LMRBMImputer(n_components=64, n_epochs=30, learning_rate=1e-2, rank=None,
                         matmul_dtype="bfloat16", random_state=0)
    imputed = model.fit_transform(X_missing)
    holes = np.isnan(X_missing)
    mean_imputed = MeanImputer().fit_transform(X_missing)
    assert model.components_.dtype == np.float32
    assert (np.sqrt(np.mean((imputed - X)[holes] ** 2))
            < 0.9 * np.sqrt(np.mean((mean_imputed - X)[holes] ** 2)))


@pytest.mark.parametrize("imputation", ["mean-field", "sample"])
def test_transform_is_deterministic_and_pickles(imputation):
    X, X_missing = masked_digits()
    model = LMRBMImputer(n_components=16, n_epochs=1, imputation=imputation,
                         random_state=0).fit(X_missing)
    first = model.transform(X_missing)
    np.testing.assert_array_equal(first, model.transform(X_missing))
    clone = pickle.loads(pickle.dumps(model))
    np.testing.assert_array_equal(first, clone.transform(X_missing))
    holes = np.isnan(X_missing)
    if imputation == "sample":
        assert set(np.unique(first[holes])) <= {0.0, 1.0}
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


@pytest.mark.parametrize("cls", ESTIMATORS)
@pytest.mark.parametrize("rank", [None, "auto"])
def test_non_finite_weights_raise_naming_the_epoch(cls, rank):
    _, X_missing = masked_digits()
    model = cls(n_components=8, n_epochs=3, learning_rate=1e38, rank=rank, random_state=0)
    with pytest.raises(FloatingPointError, match=r"epoch 1 of 3.*smaller learning_rate"):
        model.fit(X_missing)


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
