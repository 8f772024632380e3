"""Every private scikit-learn import lives here, so that a future rename is one edit."""

from sklearn.base import _fit_context
from sklearn.impute._base import _BaseImputer  # noqa: F401  (SimpleImputer, KNNImputer, ...)
from sklearn.utils._param_validation import HasMethods, Hidden, Interval, StrOptions
from sklearn.utils._param_validation import (  # noqa: F401  (checks at transform)
    InvalidParameterError,
    validate_parameter_constraints,
)
from sklearn.utils._set_output import _get_container_adapter
from sklearn.utils.validation import validate_data

__all__ = ["_BaseImputer", "_fit_context", "_get_container_adapter", "HasMethods", "Hidden",
           "Interval", "StrOptions", "validate_data"]
