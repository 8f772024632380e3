"""scikit-learn's estimator checks over every imputer in the test table."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skrbm_impute.utils._testing import expected_failed_checks, imputer_test_instances


@parametrize_with_checks(imputer_test_instances(), expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
