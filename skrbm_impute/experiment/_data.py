"""The benchmark's data: a named dataset or a user's file, split into train and test."""

from pathlib import Path

import numpy as np
from sklearn.model_selection import train_test_split

from ..datasets import load_dataset, load_mnist
from ..utils._validation import check_unit_interval, resolve_image_shape


def load_benchmark_data(config):
    """Load ``config["dataset"]`` and split it as the preset says.

    Parameters
    ----------
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).

    Returns
    -------
    data : dict
        ``X_train``, ``X_test`` (float64, (n, H*W), in [0, 1]), ``y_train``, ``y_test``
        (int labels, or None when the dataset has none) and ``image_shape``.

    Notes
    -----
    ``"mnist"`` takes the first ``n_train`` training digits and the first ``n_test``
    test digits, as the paper (50,000 / 10,000).  A single-array dataset is split by a
    stratified shuffle (when labels exist) seeded with ``config["seed"]``.
    """
    name = config["dataset"]
    n_train, n_test = config["n_train"], config["n_test"]
    if name == "mnist":
        X_train, y_train = load_mnist("train", data_home=config["data_home"])
        X_test, y_test = load_mnist("test", data_home=config["data_home"])
        X_train, y_train = _head(X_train, y_train, n_train, "training")
        X_test, y_test = _head(X_test, y_test, n_test, "test")
    else:
        arrays = _load_arrays(name, config)
        if len(arrays) == 4:
            X_train, y_train, X_test, y_test = arrays
            X_train, y_train = _head(X_train, y_train, n_train, "training")
            X_test, y_test = _head(X_test, y_test, n_test, "test")
        else:
            X_train, y_train, X_test, y_test = _split(*arrays, n_train, n_test, config["seed"])
    image_shape = resolve_image_shape(config["image_shape"], X_train.shape[1])
    for X in (X_train, X_test):
        check_unit_interval(X, f"the benchmark (dataset {name!r})")
    return {
        "X_train": X_train, "y_train": y_train, "X_test": X_test, "y_test": y_test,
        "image_shape": image_shape,
    }


def dataset_has_labels(config):
    """Whether :func:`load_benchmark_data` will return labels (no data is loaded).

    Parameters
    ----------
    config : dict
        The run's configuration (:func:`~._presets.load_preset`).

    Returns
    -------
    has_labels : bool
    """
    name = config["dataset"]
    if name in ("mnist", "mnist-sample", "mnist-test", "digits"):
        return True
    path = _dataset_file(name)
    if path.suffix == ".npz":
        with np.load(path) as archive:
            return bool({"y", "y_train"} & set(archive.files))
    return config["labels"] is not None


def _dataset_file(name):
    """The ``.npy``/``.npz`` file a dataset name that is not a built-in one points to."""
    path = Path(name)
    if path.suffix not in (".npy", ".npz") or not path.is_file():
        raise ValueError(
            f"dataset {name!r} is neither mnist-sample, mnist, mnist-test, digits nor an "
            "existing .npy/.npz file."
        )
    return path


def _load_arrays(name, config):
    if name in ("mnist-sample", "digits", "mnist-test"):
        kwargs = {"data_home": config["data_home"]} if name == "mnist-test" else {}
        return load_dataset(name, **kwargs)
    path = _dataset_file(name)
    if path.suffix == ".npz":
        with np.load(path) as archive:
            keys = set(archive.files)
            if {"X_train", "X_test"} <= keys:
                return tuple(
                    _images(archive[k], path) if k.startswith("X") else _labels(archive, k)
                    for k in ("X_train", "y_train", "X_test", "y_test")
                )
            if "X" not in keys:
                raise ValueError(
                    f"{path} must hold arrays X (and y), or X_train, y_train, X_test, y_test; "
                    f"it holds {sorted(keys)}."
                )
            return _images(archive["X"], path), _labels(archive, "y")
    try:
        X = np.load(path)
    except (ValueError, OSError, EOFError) as error:  # a damaged or pickled file
        raise ValueError(f"{path}: not a readable .npy array ({error}).") from None
    X = _images(X, path)
    y = None if config["labels"] is None else np.asarray(np.load(config["labels"]))
    if y is not None and len(y) != len(X):
        raise ValueError(f"labels {config['labels']} has {len(y)} entries for {len(X)} images.")
    return X, y


def _images(X, path):
    X = np.asarray(X, dtype=np.float64)
    if X.ndim == 3:
        X = X.reshape(len(X), -1)
    if X.ndim != 2:
        raise ValueError(f"{path}: images must have shape (n, H, W) or (n, H*W); got {X.shape}.")
    if X.size == 0:
        raise ValueError(f"{path}: no images to benchmark (shape {X.shape}).")
    if np.isnan(X).any():
        raise ValueError(f"{path}: benchmark images must be complete (the benchmark masks them).")
    infinite = np.argwhere(np.isinf(X))
    if len(infinite):
        raise ValueError(f"{path}: {len(infinite)} infinite value(s), the first in image "
                         f"{infinite[0][0]} at pixel {infinite[0][1]}.")
    return X


def _labels(archive, key):
    return np.asarray(archive[key]) if key in archive.files else None


def _head(X, y, n, what):
    if n is None:
        return X, y
    if n > len(X):
        name = "n_train" if what == "training" else "n_test"
        raise ValueError(f"{name}={n} but only {len(X)} {what} images exist.")
    return X[:n], (None if y is None else y[:n])


def _split(X, y, n_train, n_test, seed):
    n_test = n_test if n_test is not None else max(1, len(X) // 5)
    n_train = n_train if n_train is not None else len(X) - n_test
    if n_train + n_test > len(X):
        raise ValueError(f"n_train + n_test = {n_train + n_test} exceeds the {len(X)} images.")
    if y is None:
        order = np.random.default_rng(seed).permutation(len(X))
        return X[order[:n_train]], None, X[order[n_train:n_train + n_test]], None
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=n_train, test_size=n_test, stratify=y, random_state=seed
    )
    return X_train, y_train, X_test, y_test
