"""Where one LM-RBM CD-1 step spends its time beyond the matrix products.

Shapes of the epoch benchmark (784 visible, ``--hidden`` hidden, batch 128); for
``--batches`` steps, measured alternately ``--repeats`` times (medians printed):

- ``products``: the five GEMMs of a step (the epoch benchmark's minimal products);
- ``cd1_step``: the package's full step (float32, full W, LM with lines 8-9);
- ``bernoulli``: the step's three Bernoulli draws alone (uniforms, compare, cast);
- ``uniforms, per step`` / ``uniforms, 8 steps at once``: only the uniforms, drawn
  per step or for eight steps in one call (fewer, larger random draws);
- ``elementwise``: the step's sigmoids, differences and concatenations alone.

    OMP_NUM_THREADS=1 python benchmarks/bench_rbm_overhead.py --threads 1
"""

import argparse
import statistics
import time

import torch

from skrbm_impute._numerics import rbm as core

N_VISIBLE, BATCH = 784, 128


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hidden", type=int, default=4096)
    parser.add_argument("--batches", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    n_hidden = args.hidden
    g = torch.Generator().manual_seed(0)
    W = 0.01 * torch.randn(N_VISIBLE, n_hidden, generator=g)
    b, c = torch.zeros(N_VISIBLE), torch.zeros(n_hidden)
    v = torch.rand(BATCH, N_VISIBLE, generator=g)
    m = (torch.rand(BATCH, N_VISIBLE, generator=g) < 0.5).float()
    v = v * (1 - m)
    lam = torch.full((N_VISIBLE,), 0.5)
    h = (torch.rand(BATCH, n_hidden, generator=g) < 0.5).float()
    xs, hs = torch.rand(2 * BATCH, N_VISIBLE, generator=g), torch.cat([h, -h])

    def products():
        for _ in range(args.batches):
            torch.addmm(c, v, W)
            torch.addmm(b, h, W.T)
            torch.addmm(c, v, W)
            h @ W.T
            W.addmm_(xs.T, hs, alpha=1e-12)

    def step():
        for _ in range(args.batches):
            core.cd1_step(v, m, b, W, c, learning_rate=1e-12, marginal=True,
                          gradient_correction=True, observation_prob=lam, generator=g)

    p_h = torch.rand(BATCH, n_hidden, generator=g)
    p_v = torch.rand(BATCH, N_VISIBLE, generator=g)

    def bernoulli():
        for _ in range(args.batches):
            core._bernoulli(p_h, g, None)
            core._bernoulli(p_v, g, None)
            core._bernoulli(p_h, g, None)

    def uniforms_per_step():
        for _ in range(args.batches):
            torch.rand(BATCH, n_hidden, generator=g)
            torch.rand(BATCH, N_VISIBLE, generator=g)
            torch.rand(BATCH, n_hidden, generator=g)

    def uniforms_chunked():
        for _ in range(args.batches // 8):
            torch.rand(8, 2 * BATCH, n_hidden, generator=g)
            torch.rand(8, BATCH, N_VISIBLE, generator=g)

    def elementwise():
        for _ in range(args.batches):
            pre_h = torch.sigmoid(p_h)
            torch.sigmoid(p_v)
            torch.sigmoid(p_h)
            observed = 1 - m
            b_m = torch.sigmoid(b) * m
            (h - h).sum(0)
            (v - v * observed).sum(0)
            torch.cat([v + b_m, v + b_m])
            torch.cat([h, -pre_h])

    cases = {"products": products, "cd1_step": step, "bernoulli": bernoulli,
             "uniforms, per step": uniforms_per_step,
             "uniforms, 8 steps at once": uniforms_chunked, "elementwise": elementwise}
    times = {name: [] for name in cases}
    for fn in cases.values():
        fn()  # warm-up
    for _ in range(args.repeats):
        for name, fn in cases.items():
            start = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - start)
    base = statistics.median(times["products"])
    print(f"{args.batches} steps, batch {BATCH}, {N_VISIBLE} x {n_hidden}, "
          f"{torch.get_num_threads()} thread(s); median of {args.repeats}")
    for name, values in times.items():
        t = statistics.median(values)
        print(f"  {name:28s} {t * 1e3:8.1f} ms   {t / base:5.2f} x products")


if __name__ == "__main__":
    main()
