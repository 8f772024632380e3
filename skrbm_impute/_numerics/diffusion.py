"""Oliveira et al. (2001) fast inpainting as a pure, vectorised NumPy function.

The whole image stack is processed in cache-sized chunks, on a flat padded layout
where every neighbour is a contiguous shifted slice, so each Jacobi step is six
contiguous float32 array passes and no masked (branchy) operation.  Chunks run on a
thread pool (NumPy releases the GIL).
"""

from concurrent.futures import ThreadPoolExecutor

import numpy as np

# 3x3 kernels with a zero centre and weights summing to 1.
KERNEL_WEIGHTS = {
    1: (0.073235, 0.176765),  # (diagonal, edge) neighbours: Oliveira's first kernel
    2: (0.125, 0.125),  # uniform 1/8 on all eight neighbours: "the second kernel"
}

# Border modes, named as in scipy.ndimage (1-pixel halo: "reflect" == "nearest").
BORDER_MODES = ("constant", "nearest", "reflect", "mirror", "wrap")

_CHUNK_IMAGES = 32  # ~115 kB per float32 buffer for 28x28: keeps a chunk in L2 cache


def diffusion_kernel(kernel):
    """The 3x3 kernel array for ``kernel`` in {1, 2} (float64)."""
    diagonal, edge = KERNEL_WEIGHTS[kernel]
    return np.array(
        [[diagonal, edge, diagonal], [edge, 0.0, edge], [diagonal, edge, diagonal]]
    )


def _refresh_halo(padded, mode):
    """Write the 1-pixel border of ``padded`` (n, H+2, W+2) from its interior."""
    if mode == "constant":
        return  # the halo is held at 0 by the update itself
    if mode in ("nearest", "reflect"):
        rows, cols = (1, -2), (1, -2)
    elif mode == "mirror":
        rows, cols = (2, -3), (2, -3)
    else:  # wrap
        rows, cols = (-2, 1), (-2, 1)
    padded[:, 0, 1:-1] = padded[:, rows[0], 1:-1]
    padded[:, -1, 1:-1] = padded[:, rows[1], 1:-1]
    padded[:, :, 0] = padded[:, :, cols[0]]
    padded[:, :, -1] = padded[:, :, cols[1]]


def _inpaint_chunk(images, missing, init, kernel, n_iter, mode):
    """Run ``n_iter`` Jacobi steps on a small stack; returns the interior (float32)."""
    n, height, width = images.shape
    stride = width + 2
    diagonal, edge = KERNEL_WEIGHTS[kernel]

    padded = np.zeros((n, height + 2, width + 2), np.float32)
    observed_part = np.zeros_like(padded)  # observed pixels, 0 in holes and halo
    hole_weight = np.zeros_like(padded)  # 1 in holes, 0 elsewhere
    observed_part[:, 1:-1, 1:-1] = np.where(missing, 0.0, images)
    hole_weight[:, 1:-1, 1:-1] = missing
    padded[:, 1:-1, 1:-1] = np.where(missing, init, images)

    flat = padded.reshape(-1)
    size = flat.size
    # Outputs are computed for the flat positions [stride + 1, size - stride - 1).
    length = size - 2 * stride - 2
    target = slice(stride + 1, stride + 1 + length)
    observed_flat = observed_part.reshape(-1)[target]
    weight_flat = hole_weight.reshape(-1)[target]
    if kernel == 2:
        weight_flat *= edge  # uniform weights: fold the 1/8 into the blend weight

    sides = np.empty(size - 2, np.float32)  # left + right neighbour, centred at k + 1
    rows = np.empty(size - 2, np.float32)  # full 3-pixel row sums, centred at k + 1
    out = np.empty(length, np.float32)
    for _ in range(n_iter):
        _refresh_halo(padded, mode)
        np.add(flat[:-2], flat[2:], out=sides)
        if kernel == 2:
            np.add(sides, flat[1:-1], out=rows)
            np.add(rows[: length], rows[2 * stride: 2 * stride + length], out=out)
            out += sides[stride: stride + length]
        else:
            # edges: left/right + up/down centres; diagonals: corners of rows above/below
            np.add(flat[1: 1 + length], flat[2 * stride + 1: 2 * stride + 1 + length], out=out)
            out += sides[stride: stride + length]
            out *= edge
            np.add(sides[: length], sides[2 * stride: 2 * stride + length], out=rows[:length])
            rows[:length] *= diagonal
            out += rows[:length]
        out *= weight_flat
        np.add(out, observed_flat, out=flat[target])
    return padded[:, 1:-1, 1:-1].copy()


def diffusion_inpaint(images, missing, *, kernel=2, n_iter=200, init=0.0, mode="constant",
                      n_threads=1):
    """Inpaint the holes of an image stack by iterated 3x3 diffusion (Jacobi steps).

    Parameters
    ----------
    images : ndarray of shape (n_images, height, width)
        Pixel values; entries under ``missing`` are ignored (they may be NaN).
    missing : ndarray of bool, same shape
        True where a pixel is missing.
    kernel : {1, 2}, default=2
        Oliveira et al.'s first kernel (0.073235 diagonal, 0.176765 edge) or the
        second (1/8 on all eight neighbours).
    n_iter : int, default=200
        Exact number of steps "convolve the whole image, then re-impose the observed
        pixels"; no convergence test.
    init : float or ndarray broadcastable to (n_images, 1, 1), default=0.0
        Starting value of the missing pixels.
    mode : {"constant", "nearest", "reflect", "mirror", "wrap"}, default="constant"
        How the convolution sees beyond the border, as in ``scipy.ndimage`` (constant
        means 0, the reference implementations' default).
    n_threads : int, default=1
        Worker threads over chunks.  One is the default: the per-chunk work is short
        enough that a second thread mostly contends for the GIL (measured on 2 cores).

    Returns
    -------
    ndarray of float32, same shape
        Observed pixels as given (exactly, in float32) and the diffused holes.
    """
    images = np.asarray(images)
    missing = np.asarray(missing, dtype=bool)
    init = np.broadcast_to(np.asarray(init, np.float32).reshape(-1, 1, 1),
                           (len(images), 1, 1))
    result = np.empty(images.shape, np.float32)

    def run(start):
        stop = start + _CHUNK_IMAGES
        result[start:stop] = _inpaint_chunk(
            images[start:stop], missing[start:stop], init[start:stop], kernel, n_iter, mode
        )

    starts = range(0, len(images), _CHUNK_IMAGES)
    if n_threads == 1 or len(starts) == 1:
        for start in starts:
            run(start)
    else:
        with ThreadPoolExecutor(n_threads) as pool:
            list(pool.map(run, starts))
    return result
