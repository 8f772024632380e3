"""Diffusion inpainting speed: 10,000 28x28 images, 60% I.M., 200 iterations.

Prints, from one run: the package's time (median of ``--repeats``), the time of the
obvious baseline (``scipy.ndimage.convolve`` over the whole image stack, then re-impose
the observed pixels, each iteration; timed once, it is slow), their ratio, and the
memory-traffic bound (each iteration must at least read and write the float32 stack
once, at this machine's measured copy bandwidth).

    python benchmarks/bench_diffusion.py
"""

import argparse

import numpy as np
import scipy.ndimage as ndimage

from _common import median_seconds, timed
from skrbm_impute._numerics.diffusion import diffusion_inpaint, diffusion_kernel
from skrbm_impute.masks import independent_mask


def baseline(images, missing, n_iter):
    kernel = diffusion_kernel(2)[None]
    current = np.where(missing, 0.0, images)
    for _ in range(n_iter):
        current = np.where(missing, ndimage.convolve(current, kernel, mode="constant"), images)
    return current


def copy_bandwidth(nbytes):
    src = np.ones(nbytes // 4, np.float32)
    dst = np.empty_like(src)
    seconds, _ = median_seconds(lambda: np.copyto(dst, src), 5)
    return 2 * src.nbytes / seconds  # read + write


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n-images", type=int, default=10_000)
    parser.add_argument("--n-iter", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    args = parser.parse_args(argv)

    rng = np.random.RandomState(0)
    images = rng.random_sample((args.n_images, 28, 28)).astype(np.float32)
    missing = independent_mask(args.n_images, (28, 28), rate=0.6, random_state=0)
    missing = missing.reshape(images.shape)

    ours, result = median_seconds(
        lambda: diffusion_inpaint(images, missing, n_iter=args.n_iter), args.repeats)
    bound = args.n_iter * 2 * images.nbytes / copy_bandwidth(images.nbytes)
    print(f"images: {args.n_images} x 28x28, 60% missing, {args.n_iter} iterations")
    print(f"skrbm_impute diffusion_inpaint: {ours:.3f} s (median of {args.repeats})")
    print(f"memory-traffic bound (read+write the stack per iteration): {bound:.3f} s "
          f"-> ours / bound = {ours / bound:.1f}")
    if not args.skip_baseline:
        reference, base = timed(
            lambda: baseline(images.astype(np.float64), missing, args.n_iter))
        print(f"baseline scipy.ndimage.convolve per iteration: {base:.3f} s")
        print(f"speed-up over the baseline: {base / ours:.1f}x (target >= 10x)")
        print(f"max |ours - baseline|: {np.abs(result - reference).max():.2e}")


if __name__ == "__main__":
    main()
