"""skrbm_impute: scikit-learn compatible RBM imputers and the perception-distortion study.

The imputers take arrays with NaN marking missing entries and return a new array
with the observed entries unchanged.  ``import skrbm_impute`` stays light: the
torch-based imputers (:class:`LMRBMImputer`, :class:`MaskedRBMImputer`,
:class:`MisGANImputer`) and the subpackages are imported on first use.
"""

from ._version import __version__
from .impute import DiffusionInpaintImputer, MeanImputer
from .masks import (
    apply_mask,
    independent_mask,
    make_mask,
    patch_missingness_mask,
    square_observation_mask,
)
from .utils._lazy import lazy_exports

__all__ = [
    "DiffusionInpaintImputer",
    "LMRBMImputer",
    "MaskedRBMImputer",
    "MeanImputer",
    "MisGANImputer",
    "TabularRBMImputer",
    "apply_mask",
    "independent_mask",
    "make_mask",
    "patch_missingness_mask",
    "square_observation_mask",
]

_SUBMODULES = ("datasets", "experiment", "impute", "masks", "metrics")

__getattr__, __dir__ = lazy_exports(
    __name__,
    {
        "LMRBMImputer": ".impute",
        "MaskedRBMImputer": ".impute",
        "MisGANImputer": ".impute",
        "TabularRBMImputer": ".impute",
        **{name: f".{name}" for name in _SUBMODULES},
    },
    eager=[*__all__, "__version__"],
)
