"""Finding the imputer (or RBM) inside a fitted Pipeline for the scorers and helpers."""

from sklearn.pipeline import Pipeline

from ..impute._base import BaseImputer
from ..utils._compat import _BaseImputer


def _is_target(step, method):
    if method == "transform":
        return isinstance(step, (BaseImputer, _BaseImputer))
    return hasattr(step, method)


def _describe(method):
    return "an imputer" if method == "transform" else f"a step with {method}"


def split_at_step(estimator, step, method):
    """Return ``(preprocess, target)`` for a fitted estimator or Pipeline.

    ``target`` is the estimator itself, or the Pipeline step given by ``step`` (name or
    index; ``None`` picks the first imputer for ``method="transform"``, else the first
    step having ``method``).  ``preprocess(X)`` runs ``X`` through the Pipeline steps
    before ``target`` (identity when there are none).
    """
    if not isinstance(estimator, Pipeline):
        if step is not None:
            raise ValueError(f"step={step!r} was given but the estimator is not a Pipeline.")
        _check_method(estimator, method)
        return _identity, estimator
    names = [name for name, _ in estimator.steps]
    if step is None:
        found = [i for i, (_, s) in enumerate(estimator.steps) if _is_target(s, method)]
        if not found:
            raise ValueError(
                f"No step of the Pipeline ({names}) is {_describe(method)}; pass step= "
                "with the name or index of the step to use."
            )
        index = found[0]
    elif isinstance(step, str):
        if step not in names:
            raise ValueError(f"step={step!r} is not a step of the Pipeline ({names}).")
        index = names.index(step)
    else:
        index = range(len(names))[step]
    target = estimator.steps[index][1]
    _check_method(target, method)
    return (estimator[:index].transform if index else _identity), target


def _check_method(estimator, method):
    if not hasattr(estimator, method):
        raise TypeError(f"{type(estimator).__name__} has no {method} method.")


def _identity(X):
    return X
