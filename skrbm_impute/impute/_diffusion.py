"""Diffusion inpainting (Oliveira, Bowen, McKenna & Chang 2001) as an imputer."""

from numbers import Integral, Real

from .._numerics.diffusion import BORDER_MODES, diffusion_inpaint
from ..utils._compat import StrOptions
from ..utils._validation import StrictInterval
from ._base import BaseImputer
from ._mean import observed_mean


class DiffusionInpaintImputer(BaseImputer):
    """Fill image holes by repeatedly diffusing the surrounding pixels into them.

    Oliveira et al.'s fast digital inpainting, as used in the paper: the missing
    pixels start at ``init``; then exactly ``n_iter`` Jacobi steps each convolve the
    whole image with a 3x3 kernel with a zero centre and re-impose the observed
    pixels.  It learns nothing from the training data: ``fit`` only checks the image
    shape.  Computation runs in float32 on the whole stack at once (see
    :func:`skrbm_impute._numerics.diffusion.diffusion_inpaint`); the result is cast to
    the input's dtype.

    Parameters
    ----------
    kernel : {1, 2}, default=2
        ``2`` is the paper's "second kernel", 1/8 on all eight neighbours; ``1`` is
        0.073235 on the diagonal and 0.176765 on the edge neighbours.
    n_iter : int, default=200
        Number of Jacobi steps (fixed, no convergence test).
    init : float or "image-mean", default=0.0
        Starting value of the missing pixels (a finite number); ``"image-mean"`` uses the mean of each
        image's observed pixels (0 for an image with none).  With 200 steps large
        holes are not converged, so the start shows in the result.
    mode : {"constant", "nearest", "reflect", "mirror", "wrap"}, default="constant"
        What the kernel sees beyond the image border, as in ``scipy.ndimage``:
        ``"constant"`` pads with 0 (the default of the usual reference implementations
        of Oliveira et al.'s method, and MNIST's background); ``"nearest"`` repeats the
        edge pixel (keeps a constant image constant).  The border decides the
        square-observation cells, whose holes reach the frame; zero padding
        reproduces the paper's figures there (measured: see the user guide's
        "Estimator measurements").
    image_shape : tuple (height, width) or None, default=None
        Shape of one image; ``None`` means square images (``n_features`` must be a
        perfect square).

    Attributes
    ----------
    image_shape_ : tuple (height, width)
        The resolved image shape.
    n_features_in_ : int
        Number of features (pixels) seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during ``fit`` (only when ``X`` has string column names).

    Notes
    -----
    An image with every pixel missing fades from ``init`` towards the zero border
    (with ``mode="nearest"`` it stays at ``init``: nothing diffuses in).

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute import DiffusionInpaintImputer
    >>> X = np.full((1, 9), 0.5)
    >>> X[0, 4] = np.nan
    >>> DiffusionInpaintImputer().fit_transform(X)[0, 4]
    np.float64(0.5)
    """

    _parameter_constraints: dict = {
        "kernel": [StrictInterval(Integral, 1, 2, closed="both")],
        "n_iter": [StrictInterval(Integral, 0, None, closed="left")],
        "init": [StrictInterval(Real, None, None, closed="neither"), StrOptions({"image-mean"})],
        "mode": [StrOptions(set(BORDER_MODES))],
        "image_shape": [tuple, list, None],
    }

    #: Everything but ``image_shape`` is read at ``transform``: checked there too.
    _transform_parameters = ("kernel", "n_iter", "init", "mode")

    def __init__(self, *, kernel=2, n_iter=200, init=0.0, mode="constant", image_shape=None):
        self.kernel = kernel
        self.n_iter = n_iter
        self.init = init
        self.mode = mode
        self.image_shape = image_shape

    def _fit(self, X, missing):
        self.image_shape_ = self._image_shape(X.shape[1])

    def _impute(self, X, missing):
        images = X.reshape(-1, *self.image_shape_)
        holes = missing.reshape(images.shape)
        if self.init == "image-mean":
            init = observed_mean(X.T, missing.T)
        else:
            init = self.init
        filled = diffusion_inpaint(
            images, holes, kernel=self.kernel, n_iter=self.n_iter, init=init, mode=self.mode
        )
        return filled.reshape(X.shape)
