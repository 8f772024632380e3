"""The RBM training options beyond Algorithm 1 as printed: the CD-1 step with
probabilities for its statistics, and Adam's step, against plain NumPy loops."""

import warnings

import numpy as np
import pytest
import torch
from sklearn.exceptions import ConvergenceWarning

from skrbm_impute import LMRBMImputer, MaskedRBMImputer
from skrbm_impute._numerics import rbm as core
from skrbm_impute._numerics import rbm_training

from _rbm_reference import sigmoid, t64
from _rbm_reference import tiny_problem as _tiny_problem


def tiny_problem(seed=0, **shape):
    """The shared problem with only the uniforms of the h draw (one draw per step)."""
    V, M, b, c, W, uniforms, lam = _tiny_problem(seed, **shape)
    return V, M, b, c, W, uniforms[0], lam


def reference_update(V, M, b, c, W, u_h, *, marginal, correction, lam):
    """Algorithm 1's summed update, per sample, with the statistics as probabilities:
    h drawn (u_h) only to drive v' = P(v | h); the updates use P(h | v_o), v' and
    P(h | v'_o)."""
    db, dc, dW = np.zeros_like(b), np.zeros_like(c), np.zeros_like(W)
    for i in range(V.shape[0]):
        v, m = V[i], M[i]
        b_m = sigmoid(b) * m if marginal else np.zeros_like(b)
        p_h = sigmoid((v * (1 - m) + b_m) @ W + c)
        h_drawn = (u_h[i] < p_h).astype(float)
        v2 = sigmoid(W @ h_drawn + b)
        p_h2 = sigmoid((v2 * (1 - m) + b_m) @ W + c)
        dc += p_h - p_h2
        db += (v - v2) * (1 - m)
        dW += np.outer(v * (1 - m), p_h) - np.outer(v2 * (1 - m), p_h2)
        if correction:
            db += lam * b_m * (1 - sigmoid(b)) * (W @ (p_h - p_h2))
            dW += np.outer(lam * b_m, p_h - p_h2)
    return db, dc, dW


VARIANTS = {
    "LM": dict(marginal=True, correction=True, scaled=True),
    "LM, lambda=1": dict(marginal=True, correction=True, scaled=False),
    "LM without lines 8-9": dict(marginal=True, correction=False, scaled=False),
    "[5]": dict(marginal=False, correction=False, scaled=False),
}


def flags(variant, lam):
    f = VARIANTS[variant]
    return dict(marginal=f["marginal"], gradient_correction=f["correction"],
                observation_prob=t64(lam) if f["scaled"] else None)


def reference_flags(variant, lam):
    f = VARIANTS[variant]
    return dict(marginal=f["marginal"], correction=f["correction"],
                lam=lam if f["scaled"] else np.ones_like(lam))


def uniforms_of(u_h, n_visible, seed=99):
    # u_v and u_h' are unused by the probabilities' step: random, so using them would show.
    rng = np.random.RandomState(seed)
    return (t64(u_h), t64(rng.rand(u_h.shape[0], n_visible)), t64(rng.rand(*u_h.shape)))


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("seed", [0, 1])
def test_probabilities_step_matches_per_sample_numpy(variant, seed):
    V, M, b, c, W, u_h, lam = tiny_problem(seed)
    db, dc, dW = reference_update(V, M, b, c, W, u_h, **reference_flags(variant, lam))
    b_t, c_t, w_t = t64(b), t64(c), t64(W)
    core.cd1_step(t64(V), t64(M), b_t, w_t, c_t, learning_rate=0.05,
                  statistics="probabilities", uniforms=uniforms_of(u_h, V.shape[1]),
                  **flags(variant, lam))
    for got, start, delta in zip((b_t, c_t, w_t), (b, c, W), (db, dc, dW)):
        np.testing.assert_allclose(got.numpy(), start + 0.05 * delta, rtol=1e-12, atol=1e-12)
    # It differs from Algorithm 1's sampled step on the same draws.
    b_s = t64(b)
    core.cd1_step(t64(V), t64(M), b_s, t64(W), t64(c), learning_rate=0.05,
                  uniforms=uniforms_of(u_h, V.shape[1]), **flags(variant, lam))
    assert np.abs(b_s.numpy() - b_t.numpy()).max() > 1e-4


def test_probabilities_step_factorised_is_chain_rule_of_full_step():
    V, M, b, c, _, u_h, lam = tiny_problem(4)
    rng = np.random.RandomState(5)
    A, B = rng.normal(0, 0.7, (7, 3)), rng.normal(0, 0.7, (3, 5))
    db, dc, dW = reference_update(V, M, b, c, A @ B, u_h, **reference_flags("LM", lam))
    b_t, c_t, A_t, B_t = t64(b), t64(c), t64(A), t64(B)
    core.cd1_step(t64(V), t64(M), b_t, (A_t, B_t), c_t, learning_rate=0.05,
                  statistics="probabilities", uniforms=uniforms_of(u_h, 7),
                  **flags("LM", lam))
    np.testing.assert_allclose(A_t.numpy() - A, 0.05 * dW @ B.T, atol=1e-12)
    np.testing.assert_allclose(B_t.numpy() - B, 0.05 * A.T @ dW, atol=1e-12)
    np.testing.assert_allclose(b_t.numpy(), b + 0.05 * db, atol=1e-12)
    np.testing.assert_allclose(c_t.numpy(), c + 0.05 * dc, atol=1e-12)


def test_probabilities_step_draws_once_and_statistics_are_validated():
    V, M, b, c, W, _, lam = tiny_problem(2)
    generator = torch.Generator().manual_seed(0)
    core.cd1_step(t64(V), t64(M), t64(b), t64(W), t64(c), learning_rate=0.05, marginal=True,
                  gradient_correction=True, statistics="probabilities", generator=generator)
    # One (6 x 5) uniform draw consumed: the next draw equals the 31st of a fresh stream.
    fresh = torch.Generator().manual_seed(0)
    torch.rand(6 * 5, generator=fresh, dtype=torch.float64)
    assert torch.equal(torch.rand(3, generator=generator, dtype=torch.float64),
                       torch.rand(3, generator=fresh, dtype=torch.float64))
    with pytest.raises(ValueError, match="statistics must be one of .*'expected'"):
        core.cd1_step(t64(V), t64(M), t64(b), t64(W), t64(c), learning_rate=0.05,
                      marginal=True, gradient_correction=True, statistics="expected")


def reference_adam(params, gradients_per_step, lr, decays, beta_1=0.9, beta_2=0.999,
                   eps=1e-8):
    """Kingma & Ba's Algorithm 1 (ascent), written out per parameter."""
    params = [p.copy() for p in params]
    first = [np.zeros_like(p) for p in params]
    second = [np.zeros_like(p) for p in params]
    for t, step_gradients in enumerate(gradients_per_step, start=1):
        for i, (p, g) in enumerate(zip(params, step_gradients(params))):
            g = g - decays[i] * p
            first[i] = beta_1 * first[i] + (1 - beta_1) * g
            second[i] = beta_2 * second[i] + (1 - beta_2) * g * g
            m_hat = first[i] / (1 - beta_1 ** t)
            v_hat = second[i] / (1 - beta_2 ** t)
            params[i] = p + lr * m_hat / (np.sqrt(v_hat) + eps)
    return params


@pytest.mark.parametrize("decay", [0.0, 0.3])
def test_adam_steps_match_numpy(decay):
    V, M, b, c, W, u_h, lam = tiny_problem(7)
    rng = np.random.RandomState(8)
    draws = [u_h] + [rng.rand(*u_h.shape) for _ in range(2)]

    def gradients_at(u):  # the probabilities' update Δθ at the current parameters
        def at(params):
            W_, b_, c_ = params
            db, dc, dW = reference_update(V, M, b_, c_, W_, u, **reference_flags("LM", lam))
            return [dW, db, dc]
        return at

    expected = reference_adam([W, b, c], [gradients_at(u) for u in draws], 0.01,
                              decays=[decay, 0.0, 0.0])
    b_t, c_t, w_t = t64(b), t64(c), t64(W)
    adam = core.AdamMoments([w_t, b_t, c_t])
    for u in draws:
        core.cd1_step(t64(V), t64(M), b_t, w_t, c_t, learning_rate=0.01,
                      statistics="probabilities", adam=adam, weight_decay=decay,
                      momentum=0.9, velocity=[torch.zeros_like(w_t), torch.zeros_like(b_t),
                                              torch.zeros_like(c_t)],
                      uniforms=uniforms_of(u, V.shape[1]), **flags("LM", lam))
    assert adam.n_steps == 3
    for got, e in zip((w_t, b_t, c_t), expected):
        np.testing.assert_allclose(got.numpy(), e, rtol=1e-10, atol=1e-12)
    # Adam's first step moves each parameter by about the rate, whatever Δθ's scale.
    adam.reset()
    w_0 = t64(W)
    core.cd1_step(t64(V), t64(M), t64(b), w_0, t64(c), learning_rate=0.01,
                  statistics="probabilities", adam=adam, uniforms=uniforms_of(u_h, 7),
                  **flags("LM", lam))
    moved = np.abs(w_0.numpy() - W)
    np.testing.assert_allclose(moved[moved > 0], 0.01, rtol=1e-4)


@pytest.mark.parametrize("cls, options", [
    (LMRBMImputer, dict(cd_statistics="probabilities", learning_rate=3e-3)),
    (MaskedRBMImputer, dict(cd_statistics="probabilities", learning_rate=3e-3)),
    # Adam on the probabilities' statistics, and on Algorithm 1's draws (the default)
    (LMRBMImputer, dict(solver="adam", learning_rate=0.01, cd_statistics="probabilities")),
    (MaskedRBMImputer, dict(solver="adam", learning_rate=0.03, rank=8)),
])
def test_training_options_learn(cls, options):
    from sklearn.datasets import load_digits

    from skrbm_impute import MeanImputer
    X = load_digits().data[:600] / 16.0
    rng = np.random.RandomState(0)
    X_missing = np.where(rng.rand(*X.shape) < 0.3, np.nan, X)
    mask = np.isnan(X_missing)
    model = cls(n_components=32, n_epochs=20, batch_size=32, n_threads=1,
                random_state=0, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)  # no back-off of the rate
        imputed = model.fit_transform(X_missing)
    mean = MeanImputer().fit_transform(X_missing)
    rmse = lambda Z: np.sqrt(np.mean((Z[mask] - X[mask]) ** 2))  # noqa: E731
    assert rmse(imputed) < 0.9 * rmse(mean)


def test_adam_state_is_reset_on_restart():
    params = [torch.zeros(3, 2), torch.zeros(3), torch.zeros(2)]
    state = rbm_training.TrainingState.start(
        torch.zeros(4, 3), torch.zeros(4, 3), params[1], params[2], params[0],
        generator=torch.Generator(), learning_rate=0.1, solver="adam", momentum=0.9)
    assert state.velocity is None and state.adam is not None
    state.adam.first[0].fill_(1.0)
    state.adam.n_steps = 5
    state.restart(0.01)
    assert state.adam.n_steps == 0 and not state.adam.first[0].any()


@pytest.mark.parametrize("params, message", [
    (dict(cd_statistics="expected"), "cd_statistics"),
    (dict(solver="rmsprop"), "solver"),
])
def test_invalid_options_are_refused(params, message):
    X = np.array([[0.0, 1.0, np.nan], [1.0, np.nan, 0.0]])
    with pytest.raises(ValueError, match=message):
        LMRBMImputer(**params).fit(X)
