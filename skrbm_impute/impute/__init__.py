"""The imputers, one algorithm per private module."""

from ._base import BaseImputer
from ._diffusion import DiffusionInpaintImputer
from ._mean import MeanImputer
from ._misgan import MisGANImputer
from ._rbm import LMRBMImputer, MaskedRBMImputer

__all__ = [
    "BaseImputer",
    "DiffusionInpaintImputer",
    "LMRBMImputer",
    "MaskedRBMImputer",
    "MeanImputer",
    "MisGANImputer",
]
