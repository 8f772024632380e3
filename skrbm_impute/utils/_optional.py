"""Optional dependencies: an import that names the extra to install when it fails."""

import importlib

#: The extra of ``pyproject.toml`` that provides each optional module.
EXTRAS = {
    "pandas": "benchmark",
    "matplotlib": "benchmark",
    "mlxtend": "benchmark",
    "dask": "dask",
    "distributed": "dask",
    "ray": "ray",
}


def import_optional(name, purpose):
    """Import module ``name`` or raise an ImportError naming the extra that provides it.

    Parameters
    ----------
    name : str
        Module to import, e.g. ``"pandas"`` or ``"dask.distributed"``.
    purpose : str
        What needs it, for the message (``"the benchmark"``).

    Returns
    -------
    module : module
    """
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        extra = EXTRAS[name.split(".")[0]]
        raise ImportError(
            f"{purpose} needs {name.split('.')[0]!r}, which is not installed. Install the "
            f"{extra!r} extra: python -m pip install \"skrbm_impute[{extra}]\"."
        ) from exc
