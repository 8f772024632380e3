"""Feature extractors for the FID and batched, memory-bounded feature statistics."""

import os
import threading
import urllib.error
from pathlib import Path
from typing import NamedTuple
from unittest import mock

import numpy as np
import torch
from sklearn.utils import check_array

from ..utils._torch import resolve_device
from ..utils._validation import resolve_image_shape
from ._lenet import load_mnist_lenet

#: Default number of images pushed through a feature network at once.
DEFAULT_BATCH_SIZE = 256


class FeatureStatistics(NamedTuple):
    """Mean and covariance (``np.cov`` convention, N - 1) of a set's features.

    Compute it once with :func:`feature_statistics` for a reference set and pass it to
    :func:`fid` or :class:`FIDScorer` in place of the images.

    Parameters
    ----------
    mu : ndarray of shape (d,)
        Feature mean.
    sigma : ndarray of shape (d, d)
        Feature covariance.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute.metrics import FeatureStatistics, frechet_distance
    >>> a = FeatureStatistics(np.zeros(2), np.eye(2))
    >>> b = FeatureStatistics(np.ones(2), np.eye(2))
    >>> round(float(frechet_distance(a, b)), 6)
    2.0
    """

    mu: np.ndarray
    sigma: np.ndarray


class InceptionFeatures:
    """The InceptionV3 of pytorch-fid (the TensorFlow FID network) as a feature extractor.

    Gray images (n, H * W) are repeated over three channels; pytorch-fid resizes them
    to 299x299 and maps [0, 1] to [-1, 1].  ``features="inception"`` is
    ``InceptionFeatures()``.

    Parameters
    ----------
    weights : str or Path, default=None
        The pytorch-fid weights file ``pt_inception-2015-12-05-6726825d.pth``.  ``None``
        looks for it in the torch hub cache (``<torch.hub.get_dir()>/checkpoints/``)
        and, with ``download=True``, downloads it there when missing.
    dims : {64, 192, 768, 2048}, default=2048
        Which Inception block's pooled features to use (2048 is the standard FID).
    download : bool, default=True
        Allow the download of missing weights.  Offline (or with ``download=False``)
        a missing file raises ``FileNotFoundError`` naming the file and the directory
        to put it in.  A download is checked against the SHA-256 prefix in the file
        name (``6726825d``; pytorch-fid publishes no full digest) before it enters
        the cache, and a mismatch raises ``RuntimeError``.  The prefix catches a
        truncated, corrupt or wrong file; 32 bits are no proof against a deliberate
        forgery, but the file is read with ``torch.load(weights_only=True)``, which
        runs no code from it.  Files already in the cache or given as ``weights``
        are the user's and are not checked.

    Notes
    -----
    An instance keeps the network it loaded (per device) and reuses it in later
    calls, so pass the same instance to repeated :func:`fid` calls rather than the
    string ``"inception"``, which loads the weights each time.  The loaded network
    is not pickled.

    Examples
    --------
    >>> from skrbm_impute.metrics import InceptionFeatures
    >>> InceptionFeatures(download=False).weights_path().name
    'pt_inception-2015-12-05-6726825d.pth'
    """

    def __init__(self, weights=None, dims=2048, download=True):
        self.weights = weights
        self.dims = dims
        self.download = download

    def __getstate__(self):
        state = self.__dict__.copy()
        state.pop("_loaded", None)
        return state

    def __repr__(self):
        return (f"InceptionFeatures(weights={self.weights!r}, dims={self.dims!r}, "
                f"download={self.download!r})")

    def weights_path(self):
        """Where the weights are read from: ``weights`` or the torch hub cache file.

        Returns
        -------
        path : Path
            The weights file (it may not exist yet).
        """
        from pytorch_fid.inception import FID_WEIGHTS_URL

        if self.weights is not None:
            return Path(self.weights)
        return Path(torch.hub.get_dir()) / "checkpoints" / os.path.basename(FID_WEIGHTS_URL)

    def _state_dict(self):
        from pytorch_fid.inception import FID_WEIGHTS_URL

        path = self.weights_path()
        if not path.exists() and self.weights is None and self.download:
            prefix = _published_hash_prefix(FID_WEIGHTS_URL)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                # torch.hub checks the SHA-256 before moving the file into place, so a
                # corrupt or substituted download never reaches the cache.
                torch.hub.download_url_to_file(FID_WEIGHTS_URL, str(path), progress=False,
                                               hash_prefix=prefix)
            except (urllib.error.URLError, OSError) as exc:
                reason = f"the download failed ({exc})"
                raise FileNotFoundError(self._missing_message(path, reason)) from exc
            except RuntimeError as exc:  # torch.hub's "invalid hash value"
                raise RuntimeError(
                    f"The download of {FID_WEIGHTS_URL} was discarded: its SHA-256 does not "
                    f"start with {prefix}, the digest prefix its file name publishes "
                    f"({exc}). Retry, or download the file yourself and check it."
                ) from exc
        if not path.exists():
            reason = "download=False" if self.weights is None else "the given path does not exist"
            raise FileNotFoundError(self._missing_message(path, reason))
        return torch.load(path, map_location="cpu", weights_only=True)

    @staticmethod
    def _missing_message(path, reason):
        from pytorch_fid.inception import FID_WEIGHTS_URL

        return (
            f"The InceptionV3 FID weights {path.name} were not found at {path} and "
            f"{reason}. Download {FID_WEIGHTS_URL} and put it in {path.parent} (the torch "
            "hub cache, see torch.hub.get_dir()), or pass its path as "
            "InceptionFeatures(weights=...)."
        )

    def _model(self, device):
        loaded = self.__dict__.setdefault("_loaded", {})
        key = (str(self.weights_path()), self.dims, str(device))
        if key not in loaded:
            loaded.clear()
            loaded[key] = self._load_model(device)
        return loaded[key]

    def _load_model(self, device):
        from pytorch_fid import inception

        if self.dims not in inception.InceptionV3.BLOCK_INDEX_BY_DIM:
            raise ValueError(
                f"dims must be one of {sorted(inception.InceptionV3.BLOCK_INDEX_BY_DIM)}; "
                f"got {self.dims!r}."
            )
        state_dict = self._state_dict()
        # pytorch-fid's constructor fetches the weights from its URL and offers no way to
        # pass them; hand it ours, under a lock so that threads never see each other's.
        with _INCEPTION_LOCK, mock.patch.object(
                inception, "load_state_dict_from_url", lambda *a, **k: state_dict):
            model = inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[self.dims]])
        return model.to(device).eval()

    def _extractor(self, image_shape, n_features, device):
        height, width = resolve_image_shape(image_shape, n_features)
        model = self._model(device)

        def extract(batch):
            images = _as_images(batch, height, width, device).expand(-1, 3, -1, -1)
            # Blocks before the last end in feature maps; pool them as pytorch-fid does.
            return torch.nn.functional.adaptive_avg_pool2d(model(images)[0], 1).flatten(1)

        return extract


_INCEPTION_LOCK = threading.Lock()


def _published_hash_prefix(url):
    """The SHA-256 prefix in a torch hub file name (``name-<hex>.ext``), the only digest
    pytorch-fid publishes for its weights; ``torch.hub``'s ``check_hash`` convention."""
    match = torch.hub.HASH_REGEX.search(os.path.basename(url))
    if match is None or not match.group(1):
        raise ValueError(f"{url} carries no SHA-256 prefix in its file name.")
    return match.group(1)


def _as_images(batch, height, width, device):
    return torch.as_tensor(batch, dtype=torch.float32, device=device).reshape(-1, 1, height, width)


def _lenet_extractor(image_shape, n_features, device):
    shape = resolve_image_shape(image_shape, n_features)
    if shape != (28, 28):
        raise ValueError(
            f"features='mnist-lenet' needs 28x28 images; got image shape {shape}. Use "
            "features='inception', a callable or a fitted transformer for other sizes."
        )
    model = load_mnist_lenet(device)
    return lambda batch: model.features(_as_images(batch, 28, 28, device))


def _module_extractor(module, image_shape, n_features, device):
    height, width = resolve_image_shape(image_shape, n_features)
    module = module.to(device).eval()
    return lambda batch: module(_as_images(batch, height, width, device)).flatten(1)


def _feature_extractor(features, image_shape, n_features, device):
    """A function mapping a batch (b, n_features) of NumPy rows to a (b, d) feature array."""
    if isinstance(features, str):
        if features == "mnist-lenet":
            return _lenet_extractor(image_shape, n_features, device)
        if features == "inception":
            return InceptionFeatures()._extractor(image_shape, n_features, device)
        raise ValueError(
            f"features must be 'mnist-lenet', 'inception', an InceptionFeatures, a torch "
            f"module, a fitted transformer or a callable; got {features!r}."
        )
    if isinstance(features, InceptionFeatures):
        return features._extractor(image_shape, n_features, device)
    if isinstance(features, torch.nn.Module):
        return _module_extractor(features, image_shape, n_features, device)
    if hasattr(features, "transform"):
        return features.transform
    if callable(features):
        return features
    raise TypeError(
        "features must be 'mnist-lenet', 'inception', an InceptionFeatures, a torch module, "
        f"a fitted transformer or a callable; got {type(features).__name__}."
    )


def _to_numpy(values):
    if isinstance(values, torch.Tensor):
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=np.float64)


def feature_statistics(X, *, features="mnist-lenet", image_shape=None,
                       batch_size=DEFAULT_BATCH_SIZE, device="cpu"):
    """Mean and covariance of the features of ``X``, computed batch by batch.

    Memory stays bounded by one batch of images and features plus a d x d scatter
    matrix, whatever the number of images: the mean and covariance are merged over
    batches with Chan et al.'s pairwise update (numerically stable, no huge feature
    matrix is kept).

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Complete (NaN-free) images as rows, values in [0, 1] for the networks.
    features : {"mnist-lenet", "inception"}, InceptionFeatures, torch module, \
            transformer or callable, default="mnist-lenet"
        ``"mnist-lenet"``: the bundled MNIST LeNet (28x28 only), fc1 before its ReLU,
        fed raw [0, 1] pixels as MisGAN's FID does (it was trained on normalised
        pixels; see ``skrbm_impute.metrics._lenet``).  ``"inception"``:
        :class:`InceptionFeatures` with its defaults.  A torch module is moved to
        ``device`` and put in eval mode; it receives float32 images of shape
        (b, 1, H, W) and its output is flattened.  A fitted transformer's
        ``transform`` or a callable receives float64 NumPy rows (b, n_features) and
        returns (b, d) features.
    image_shape : tuple (height, width) or None, default=None
        Image shape for the networks; ``None`` means square images.
    batch_size : int, default=256
        Images per forward pass.
    device : {"cpu", "cuda", "auto"} or torch.device, default="cpu"
        Where the networks run.

    Returns
    -------
    statistics : FeatureStatistics
        ``(mu, sigma)``: feature mean (d,) and covariance (d, d), float64.

    Examples
    --------
    >>> import numpy as np
    >>> from skrbm_impute.metrics import feature_statistics
    >>> X = np.random.default_rng(0).random((100, 784))
    >>> statistics = feature_statistics(X)  # the bundled LeNet's 50 features
    >>> statistics.mu.shape, statistics.sigma.shape
    ((50,), (50, 50))
    """
    X = check_array(X, dtype=None, ensure_min_samples=2)
    if not (isinstance(batch_size, (int, np.integer)) and batch_size >= 1):
        raise ValueError(f"batch_size must be a positive integer; got {batch_size!r}.")
    device = resolve_device(device)
    extract = _feature_extractor(features, image_shape, X.shape[1], device)
    n_seen, mean, scatter = 0, None, None
    with torch.no_grad():
        for start in range(0, X.shape[0], batch_size):
            batch = np.asarray(X[start:start + batch_size], dtype=np.float64)
            values = _to_numpy(extract(batch))
            if values.ndim != 2 or values.shape[0] != batch.shape[0]:
                raise ValueError(
                    f"features must map a batch of {batch.shape[0]} rows to an array of "
                    f"shape ({batch.shape[0]}, d); got shape {values.shape}."
                )
            if not np.isfinite(values).all():
                raise ValueError("The feature extractor returned non-finite features.")
            n_seen, mean, scatter = _merge_moments(n_seen, mean, scatter, values)
    return FeatureStatistics(mean, scatter / (n_seen - 1))


def _merge_moments(n_seen, mean, scatter, values):
    """Add a batch to a running (count, mean, centred scatter) triple."""
    n_batch = values.shape[0]
    batch_mean = values.mean(axis=0)
    centred = values - batch_mean
    batch_scatter = centred.T @ centred
    if n_seen == 0:
        return n_batch, batch_mean, batch_scatter
    n_total = n_seen + n_batch
    delta = batch_mean - mean
    scatter = scatter + batch_scatter + np.outer(delta, delta) * (n_seen * n_batch / n_total)
    return n_total, mean + delta * (n_batch / n_total), scatter
