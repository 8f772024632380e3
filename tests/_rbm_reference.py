"""Shared inputs of the RBM core's reference tests: a tiny random problem in NumPy."""

import numpy as np
import torch


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def t64(a):
    return torch.tensor(a, dtype=torch.float64)


def tiny_problem(seed=0, n_samples=6, n_visible=7, n_hidden=5):
    """Observed values (0 in the holes), mask, ``b``, ``c``, ``W``, the three uniforms
    of Algorithm 1's draws (h, v', h') and observation probabilities λ."""
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
