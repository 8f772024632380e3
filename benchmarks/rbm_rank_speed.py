"""How fast W = A B learns compared with a full W, per parameterisation.

LM-RBM (Algorithm 1 complete) on real MNIST: 8,000 digits train, 2,000 are imputed,
I.M. masks at ``--rate``; the same learning rate, seed and batches for every variant.
After each epoch prints the test RMSE divided by MeanImputer's (lower is better):

- ``full W``: the reference;
- ``chain rule, small A, B``: ΔA = ΔW Bᵀ, ΔB = Aᵀ ΔW, A and B ~ N(0, 0.01²);
- ``chain rule, PCA A``: the same steps, A = leading principal directions, B ~ N(0, 0.01²);
- ``scaled, random A``: damped ScaledGD steps (``factor_preconditioners``, δ = 0.1),
  A random orthonormal;
- ``scaled, PCA A``: damped ScaledGD steps, A = principal directions;
- ``fixed PCA A, B learns``: A = principal directions kept fixed, ΔB = Aᵀ ΔW (what
  the estimators do).

    OMP_NUM_THREADS=1 python benchmarks/rbm_rank_speed.py [--rate 0.6] [--epochs 6]
"""

import argparse
import time

import numpy as np
import torch

from skrbm_impute._numerics import rbm as core
from skrbm_impute.datasets import load_mnist
from skrbm_impute.impute._mean import observed_mean
from skrbm_impute.masks import independent_mask

DAMPING = 0.1  # δ of the damped scaled-gradient factor steps


def image_rmse(X_true, X_imputed, mask):
    counts = mask.sum(axis=1)
    errors = np.where(mask, (X_imputed - X_true) ** 2, 0.0).sum(axis=1)
    keep = counts > 0
    return float(np.mean(np.sqrt(errors[keep] / counts[keep])))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="MNIST IDX folder (default: $SKRBM_IMPUTE_DATA, then ~/.skrbm_impute/mnist)")
    parser.add_argument("--rate", type=float, default=0.6)
    parser.add_argument("--epochs", type=int, default=6)
    parser.add_argument("--n-components", type=int, default=600)
    parser.add_argument("--learning-rate", type=float, default=4e-3)
    parser.add_argument("--only", nargs="+", help="run only these variants")
    args = parser.parse_args()
    torch.set_num_threads(1)

    X, _ = load_mnist(subset="test", data_home=args.data_home)
    X_train, X_test = X[:8000], X[8000:]
    train_mask = independent_mask(8000, (28, 28), args.rate, random_state=1)
    test_mask = independent_mask(2000, (28, 28), args.rate, random_state=2)
    means = observed_mean(np.where(train_mask, np.nan, X_train), train_mask)
    mean_rmse = image_rmse(X_test, np.broadcast_to(means, X_test.shape), test_mask)
    f32 = lambda a: torch.as_tensor(a, dtype=torch.float32)  # noqa: E731
    v_train, m_train = f32(np.where(train_mask, 0, X_train)), f32(train_mask)
    v_test, m_test = f32(np.where(test_mask, 0, X_test)), f32(test_mask)
    lam = f32(1 - train_mask.mean(axis=0))
    rank = int(round(float(lam.sum())))
    pca = core.principal_directions(v_train + f32(means) * m_train, rank)
    print(f"I.M. {args.rate}, rank {rank}, {args.n_components} hidden, "
          f"lr {args.learning_rate}, RMSE / Mean RMSE after each epoch:")

    variants = {
        "full W": (None, False, True),
        "chain rule, small A, B": ("small", False, True),
        "chain rule, PCA A": ("pca", False, True),
        "scaled, random A": ("random", True, True),
        "scaled, PCA A": ("pca", True, True),
        "fixed PCA A, B learns": ("pca", False, False),
    }
    for name, (init, scaled, train_a) in variants.items():
        if args.only and name not in args.only:
            continue
        g = torch.Generator().manual_seed(0)
        basis = None
        if init == "pca":
            basis = pca
        elif init == "small":
            basis = torch.zeros(784, rank)
        elif init == "random":
            basis = core.random_orthonormal(784, rank, generator=torch.Generator().manual_seed(1),
                                            dtype=torch.float32, device="cpu")
        b, c, weights = core.init_parameters(means, args.n_components, generator=g,
                                             dtype=torch.float32, device="cpu",
                                             visible_basis=basis)
        if init == "small":
            weights = (0.01 * torch.randn(784, rank, generator=g), weights[1])
        ratios, start = [], time.perf_counter()
        for _ in range(args.epochs):
            order = torch.randperm(8000, generator=g)
            for s in range(0, 8000, 128):
                idx = order[s:s + 128]
                precond = (core.factor_preconditioners(*weights, DAMPING)
                           if scaled else None)
                core.cd1_step(v_train[idx], m_train[idx], b, weights, c,
                              learning_rate=args.learning_rate, marginal=True,
                              gradient_correction=True, observation_prob=lam,
                              factor_preconditioners=precond, generator=g,
                              train_visible_factor=train_a)
            imputed = core.impute(v_test, m_test, b, weights, c, marginal=True).numpy()
            ratios.append(image_rmse(X_test, imputed, test_mask) / mean_rmse)
            if not np.isfinite(ratios[-1]):
                break
        print(f"  {name:24s} " + " ".join(f"{r:7.3f}" for r in ratios)
              + f"   ({time.perf_counter() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
