"""The imputers, one algorithm per private module.

:class:`MeanImputer` and :class:`DiffusionInpaintImputer` need only NumPy; the
torch-based :class:`MaskedRBMImputer`, :class:`LMRBMImputer` and
:class:`MisGANImputer` and :class:`TabularRBMImputer` import torch on first access.
"""

from ..utils._lazy import lazy_exports
from ._diffusion import DiffusionInpaintImputer
from ._mean import MeanImputer

__all__ = [
    "DiffusionInpaintImputer",
    "LMRBMImputer",
    "MaskedRBMImputer",
    "MeanImputer",
    "MisGANImputer",
    "TabularRBMImputer",
]

__getattr__, __dir__ = lazy_exports(
    __name__,
    {"LMRBMImputer": "._rbm", "MaskedRBMImputer": "._rbm", "MisGANImputer": "._misgan",
     "TabularRBMImputer": "._tabular_rbm"},
    eager=__all__,
)
