"""Time the FID of 10,000 MNIST images with the bundled LeNet features.

Two sets of 10,000 images (the MNIST test digits, and the same digits with noise),
features computed batch by batch on the CPU.  Prints the median of a few repeats of
the full ``fid`` call (both feature passes plus the Fréchet distance), and of
``fid`` against precomputed reference statistics (one feature pass).  Then the
statistics of 60,000 images (the test digits six times, with noise, float32) and the
peak of the NumPy memory allocated during that call (tracemalloc; torch's per-batch
tensors come on top), which stays at about one batch, not a copy of the images.

    python benchmarks/bench_fid.py [--threads 1] [--repeats 3]
"""

import argparse
import tracemalloc

import numpy as np
import torch

from _common import median_seconds, timed
from skrbm_impute.datasets import load_mnist
from skrbm_impute.metrics import feature_statistics, fid


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--data-home", default=None,
                        help="MNIST IDX folder (default: $SKRBM_IMPUTE_DATA, then ~/.skrbm_impute/mnist)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    X, _ = load_mnist("test", data_home=args.data_home, download=False)
    noisy = np.clip(X + 0.1 * np.random.default_rng(0).normal(size=X.shape), 0, 1)
    options = {"batch_size": args.batch_size, "device": args.device}
    fid(X[:500], noisy[:500], **options)  # warm-up: imports, weights, allocator

    full, distance = median_seconds(lambda: fid(X, noisy, **options), args.repeats)
    reference = feature_statistics(X, **options)
    one_side, _ = median_seconds(lambda: fid(reference, noisy, **options), args.repeats)
    print(f"{len(X)} vs {len(noisy)} images, {args.threads} thread(s), batch "
          f"{args.batch_size}, {args.repeats} repeats (median)")
    print(f"fid(X, Y)                    : {full:6.2f} s   (FID = {distance:.2f})")
    print(f"fid(reference statistics, Y) : {one_side:6.2f} s")
    print(f"target < 10 s for fid(X, Y)  : {'met' if full < 10 else 'NOT met'}")

    rng = np.random.default_rng(1)
    many = np.concatenate([np.clip(X + 0.05 * rng.normal(size=X.shape), 0, 1).astype(np.float32)
                           for _ in range(6)])
    tracemalloc.start()
    _, seconds = timed(lambda: feature_statistics(many, **options))
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(f"feature_statistics of {len(many)} images ({many.nbytes / 2**20:.0f} MiB float32): "
          f"{seconds:.2f} s, peak NumPy allocation {peak:.1f} MiB")


if __name__ == "__main__":
    main()
