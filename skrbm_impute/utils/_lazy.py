"""PEP 562 lazy exports, so that ``import skrbm_impute`` does not import torch.

A package ``__init__`` lists the names whose modules need torch (or another heavy
dependency); they are imported on first attribute access.
"""

import importlib


def lazy_exports(package, exports, eager=()):
    """Build a package's ``__getattr__`` and ``__dir__``.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : dict
        ``{name: module}``, ``module`` relative to ``package``: ``{"LMRBMImputer":
        "._rbm"}`` returns ``_rbm.LMRBMImputer``; an entry whose module is the name
        itself (``{"metrics": ".metrics"}``) returns the submodule.
    eager : iterable of str
        The names already imported by the package, reported by ``__dir__``.

    Returns
    -------
    __getattr__, __dir__ : callables
    """

    def __getattr__(name):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(exports[name], package)
        # A submodule export is the module itself; any other name is one of its attributes.
        return module if exports[name].lstrip(".") == name else getattr(module, name)

    def __dir__():
        return sorted(set(eager) | set(exports))

    return __getattr__, __dir__
