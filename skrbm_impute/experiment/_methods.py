"""The method registry: a method name in a preset -> an imputer built from its settings.

Each entry names an estimator class by import path, so the heavy modules (torch
models) are imported only when a benchmark uses them, and a preset can add its own
method by giving ``estimator = "package.module:Class"`` in the method's settings table.

Presets are trusted code: naming a module imports it (running its top-level code).
What is then taken from the module is checked, so a preset or a ``--set`` value
cannot turn an arbitrary function (``os:system``) into a method or a feature
extractor: an estimator must be a scikit-learn estimator class with ``fit`` and
``transform``, a feature extractor a callable that is neither a class, a builtin nor
part of Python's standard library.
"""

import importlib
import inspect
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Method:
    """One benchmark method.

    Attributes
    ----------
    estimator : str
        ``"module:Class"`` of a scikit-learn transformer that imputes NaN entries.
    label : str
        The name used in tables and figures (the paper's column header).
    defaults : dict
        Estimator parameters that define the method (a preset's settings override them).
    """

    estimator: str
    label: str
    defaults: dict = field(default_factory=dict)


#: The paper's five methods, in the paper's column order, plus the second reading of
#: ref [5].  The paper describes [5] two ways: "the main difference ... is the extra
#: term sigma(b_m)^T W_m h" (no b_m at all: ``rbm``, :class:`MaskedRBMImputer`, the
#: missing units are simply absent) and "obtained by omitting lines 8 and 9 from
#: Algorithm 1" (``rbm-bm``: LM-RBM's sampling, so the missing units still enter the
#: hidden inputs at sigma(b), but without the gradient correction).
METHODS = {
    "mean": Method("skrbm_impute.impute:MeanImputer", "Mean"),
    "diffusion": Method("skrbm_impute.impute:DiffusionInpaintImputer", "Inpaint"),
    "misgan": Method("skrbm_impute:MisGANImputer", "MisGAN"),
    "rbm": Method("skrbm_impute:MaskedRBMImputer", "RBM [5]"),
    "rbm-bm": Method("skrbm_impute:LMRBMImputer", "RBM [5] +b_m",
                     {"gradient_correction": False}),
    "lmrbm": Method("skrbm_impute:LMRBMImputer", "RBM LM"),
}

#: Settings the runner passes to every estimator that has a parameter of that name.
RUNNER_SETTINGS = ("image_shape", "device", "random_state", "verbose")


def method_label(name, params=None):
    """The display label of a method in tables and figures.

    Parameters
    ----------
    name : str
        The method's name in the preset.
    params : dict, optional
        The method's settings table; its ``label`` key wins.

    Returns
    -------
    label : str
        The preset's ``label``, else the registry's label, else ``name``.
    """
    params = params or {}
    if "label" in params:
        return str(params["label"])
    return METHODS[name].label if name in METHODS else name


def _import_attribute(path, what):
    module_name, sep, attribute = path.partition(":") if isinstance(path, str) else ("", "", "")
    if not sep or not module_name or not attribute:
        raise ValueError(f"{what} must be given as 'package.module:name'; got {path!r}.")
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise ImportError(f"cannot import {module_name!r} for {what} {path!r}: {exc}") from exc
    try:
        return getattr(module, attribute)
    except AttributeError:
        raise ImportError(f"{module_name!r} has no attribute {attribute!r} ({what} {path!r}).")


def _is_standard_library(obj):
    root = (getattr(obj, "__module__", None) or "").split(".")[0]
    return root in sys.stdlib_module_names or root.lstrip("_") in sys.stdlib_module_names


def import_estimator(path):
    """Import ``"package.module:Class"`` and return the class.

    Parameters
    ----------
    path : str
        ``"package.module:Class"``.

    Returns
    -------
    cls : type
        A class derived from scikit-learn's ``BaseEstimator`` with ``fit`` and
        ``transform``.

    Raises
    ------
    TypeError
        For anything else (nothing is called before the check).
    ImportError, ValueError
        When the module or name does not exist, or ``path`` is malformed.
    """
    from sklearn.base import BaseEstimator

    obj = _import_attribute(path, "estimator")
    if not (inspect.isclass(obj) and issubclass(obj, BaseEstimator)
            and callable(getattr(obj, "fit", None))
            and callable(getattr(obj, "transform", None))):
        raise TypeError(
            f"estimator {path!r} is {_kind(obj)}, not a scikit-learn estimator class with "
            "fit and transform (a subclass of sklearn.base.BaseEstimator)."
        )
    return obj


def import_feature_callable(path):
    """Import ``"package.module:name"``: a function or object mapping images to features.

    Parameters
    ----------
    path : str
        ``"package.module:name"``.

    Returns
    -------
    features : callable or transformer

    Raises
    ------
    TypeError
        For anything that is not callable or has no ``transform``, and for classes,
        builtins and standard-library objects (``os:system``,
        ``subprocess:getoutput``), none of which is a feature extractor.
    """
    obj = _import_attribute(path, "fid_features")
    if (inspect.isclass(obj) or inspect.isbuiltin(obj) or inspect.ismodule(obj)
            or _is_standard_library(obj)
            or not (callable(obj) or callable(getattr(obj, "transform", None)))):
        raise TypeError(
            f"fid_features {path!r} is {_kind(obj)}; it must be a feature function or a "
            "fitted transformer defined outside Python's standard library and builtins."
        )
    return obj


def _kind(obj):
    where = getattr(obj, "__module__", None)
    name = getattr(obj, "__qualname__", type(obj).__name__)
    if inspect.isclass(obj):
        return f"the class {where}.{name}"
    if inspect.isbuiltin(obj):
        return f"the builtin {where}.{name}"
    if callable(obj):
        return f"the callable {where}.{name}"
    return f"a {type(obj).__name__}"


def make_imputer(name, params=None, **runner_settings):
    """Build the imputer of method ``name`` from its preset settings.

    Parameters
    ----------
    name : str
        A key of :data:`METHODS`, or any name whose ``params`` give ``estimator``.
    params : dict, optional
        The method's settings table from the preset: estimator parameters (over the
        registry method's ``defaults``), plus the optional keys ``estimator``
        (``"module:Class"``, which replaces the registry entry and its defaults) and
        ``label``.
    **runner_settings
        ``image_shape``, ``device``, ``random_state``, ``verbose``: each is passed
        only to an estimator that has a parameter of that name and only when the
        preset does not set it itself.

    Returns
    -------
    imputer : estimator
        An unfitted imputer.
    """
    params = dict(params or {})
    params.pop("label", None)
    path = params.pop("estimator", None)
    if path is None:
        if name not in METHODS:
            raise ValueError(
                f"Unknown method {name!r}; choose from {sorted(METHODS)} or give its "
                "settings an 'estimator = \"module:Class\"' entry."
            )
        path = METHODS[name].estimator
        params = {**METHODS[name].defaults, **params}
    cls = import_estimator(path)
    accepted = set(inspect.signature(cls).parameters)
    unknown = set(params) - accepted
    if unknown:
        raise ValueError(
            f"Method {name!r} ({cls.__name__}) has no parameter(s) {sorted(unknown)}; "
            f"its parameters are {sorted(accepted)}."
        )
    for key, value in runner_settings.items():
        if key in accepted and key not in params:
            params[key] = value
    if "image_shape" in params and params["image_shape"] is not None:
        params["image_shape"] = tuple(params["image_shape"])
    return cls(**params)
