"""skrbm_impute: scikit-learn compatible RBM imputers and the perception-distortion study.

The imputers take arrays with NaN marking missing entries and return a new array
with the observed entries unchanged.
"""

from .impute import (
    DiffusionInpaintImputer,
    LMRBMImputer,
    MaskedRBMImputer,
    MeanImputer,
    MisGANImputer,
)
from .masks import (
    apply_mask,
    independent_mask,
    make_mask,
    patch_missingness_mask,
    square_observation_mask,
)

__version__ = "0.1.0"

__all__ = [
    "DiffusionInpaintImputer",
    "LMRBMImputer",
    "MaskedRBMImputer",
    "MeanImputer",
    "MisGANImputer",
    "apply_mask",
    "independent_mask",
    "make_mask",
    "patch_missingness_mask",
    "square_observation_mask",
]
