"""scikit-learn's estimator checks over every imputer in the test table."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from _imputer_table import (
    EXPECTED_FAILED_CHECKS,
    expected_failed_checks,
    imputer_test_instances,
)


@parametrize_with_checks(imputer_test_instances(), expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# Checks that parametrize_with_checks does not yield (scikit-learn runs them only from its
# own test suite).  The output and feature-name checks use generic data (non-square feature
# counts, values outside [0, 1]), so they run on the imputers that accept any such data.
import pytest  # noqa: E402
from sklearn.utils.estimator_checks import (  # noqa: E402
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
    check_param_validation,
    check_set_output_transform,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
)

_ALL = imputer_test_instances()
_GENERIC_DATA_OK = [
    est for est in _ALL
    if "image_shape" not in est.get_params() and not est._requires_unit_interval
]


@pytest.mark.parametrize("estimator", _ALL, ids=lambda est: type(est).__name__)
def test_param_validation(estimator):
    check_param_validation(type(estimator).__name__, estimator)


@pytest.mark.parametrize("estimator", _GENERIC_DATA_OK, ids=lambda est: type(est).__name__)
@pytest.mark.parametrize("check", [
    check_set_output_transform,
    check_transformer_get_feature_names_out,
    check_transformer_get_feature_names_out_pandas,
    check_dataframe_column_names_consistency,
    check_get_feature_names_out_error,
])
def test_output_and_feature_name_checks(estimator, check):
    check(type(estimator).__name__, estimator)


def test_imputers_left_out_above_are_listed_with_a_reason():
    # Image and [0, 1] imputers cannot run the feature-name checks above;
    # tests/test_common.py::test_pandas_in_and_out covers names and set_output for them.
    for est in _ALL:
        if est not in _GENERIC_DATA_OK:
            assert type(est).__name__ in EXPECTED_FAILED_CHECKS
