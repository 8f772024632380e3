"""Fitted imputers on disk for the ``impute`` command: ``--model`` and ``--save-model``.

The files are joblib pickles: loading one runs whatever code it holds, so load only
files you made or trust.
"""

from pathlib import Path


def load_model(path):
    """Load a fitted imputer saved with joblib, as ``--model`` does.

    The loaded object must be a fitted scikit-learn estimator with ``transform``; every
    failure is a one-line ``ValueError`` (or ``FileNotFoundError``) naming the file.
    """
    import joblib
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file, not a saved model.")
    with open(path, "rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise ValueError(f"{path}: a NumPy .npy array, not a saved model (a joblib file "
                             "written by --save-model or the benchmark).")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{path}: not a readable joblib model ({type(exc).__name__}: "
                         f"{exc}).") from exc
    if not (isinstance(model, BaseEstimator) and callable(getattr(model, "transform", None))):
        raise ValueError(f"{path}: holds a {type(model).__module__}.{type(model).__name__}, "
                         "not a scikit-learn imputer (an estimator with transform).")
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ValueError(f"{path}: the {type(model).__name__} in it is not fitted.") from exc
    return model


def save_model(model, path):
    """Write ``model`` to ``path`` with joblib (checked first by :func:`check_writable`)."""
    import joblib

    joblib.dump(model, path)


def check_writable(path, what):
    """Refuse, before any work, a destination file that cannot be written: a folder, or
    a file whose folder does not exist.

    Raises
    ------
    FileNotFoundError or IsADirectoryError
        Naming ``what`` (the option) and the path.
    """
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"{what} {path}: is a folder; give a file name.")
    if not path.resolve().parent.is_dir():
        raise FileNotFoundError(f"{what} {path}: its folder does not exist.")
