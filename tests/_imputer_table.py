"""The table of test instances and expected scikit-learn check failures (tests only).

A new imputer joins every shared test (``tests/test_common.py`` and the
scikit-learn estimator checks) by adding a cheap instance to ``imputer_test_instances``
and, if some generic check cannot apply to it, an entry with the reason to
``EXPECTED_FAILED_CHECKS``.
"""

from skrbm_impute.impute import (
    DiffusionInpaintImputer,
    LMRBMImputer,
    MaskedRBMImputer,
    MeanImputer,
    MisGANImputer,
    TabularRBMImputer,
)


def imputer_test_instances():
    """Fresh, cheap instances of every imputer the package exports."""
    return [
        MeanImputer(),
        DiffusionInpaintImputer(n_iter=20),
        MaskedRBMImputer(n_components=8, n_epochs=2, learning_rate=1e-2),
        LMRBMImputer(n_components=8, n_epochs=2, learning_rate=1e-2),
        MisGANImputer(
            architecture="fc", n_epochs=1, batch_size=16, latent_size=8, random_state=0
        ),
        TabularRBMImputer(n_components=8, n_epochs=2, n_imputation_steps=5),
        TabularRBMImputer(n_components=4, n_linear_components=2, linear_init="random",
                          n_epochs=2, n_imputation_steps=5),
    ]


_OWN_VERSIONS = (
    "tests/test_common.py runs the same behaviours on square [0, 1] images with NaN; "
    "its test_own_versions_of_sklearn_checks reimplements check_readonly_memmap_input, "
    "check_f_contiguous_array_estimator, check_dont_overwrite_parameters / "
    "check_estimators_overwrite_params and check_dict_unchanged for every imputer"
)

_NOT_SQUARE = (
    "the generic checks use feature counts that are not perfect squares; an image "
    "imputer with image_shape=None rightly refuses them; " + _OWN_VERSIONS
)

_NOT_UNIT_INTERVAL = (
    "the generic checks draw values outside [0, 1] (normal, shifted or scaled data); a "
    "model of [0, 1] data rightly refuses them with a ValueError; " + _OWN_VERSIONS
    + "; pickling, dtypes, subset and order invariance and idempotent fit are tested there "
    "and in each estimator's test file"
)

# The checks that fit on data outside [0, 1] (scikit-learn 1.9).
_UNIT_INTERVAL_FAILURES = {
    "check_dict_unchanged": _NOT_UNIT_INTERVAL,
    "check_dont_overwrite_parameters": _NOT_UNIT_INTERVAL,
    "check_estimators_dtypes": _NOT_UNIT_INTERVAL,
    "check_estimators_fit_returns_self": _NOT_UNIT_INTERVAL,
    "check_estimators_overwrite_params": _NOT_UNIT_INTERVAL,
    "check_estimators_pickle": _NOT_UNIT_INTERVAL,
    "check_f_contiguous_array_estimator": _NOT_UNIT_INTERVAL,
    "check_fit2d_1feature": _NOT_UNIT_INTERVAL,
    "check_fit2d_1sample": _NOT_UNIT_INTERVAL,
    "check_fit2d_predict1d": _NOT_UNIT_INTERVAL,
    "check_fit_check_is_fitted": _NOT_UNIT_INTERVAL,
    "check_fit_idempotent": _NOT_UNIT_INTERVAL,
    "check_methods_sample_order_invariance": _NOT_UNIT_INTERVAL,
    "check_methods_subset_invariance": _NOT_UNIT_INTERVAL,
    "check_n_features_in": _NOT_UNIT_INTERVAL,
    "check_n_features_in_after_fitting": _NOT_UNIT_INTERVAL,
    "check_pipeline_consistency": _NOT_UNIT_INTERVAL,
    "check_positive_only_tag_during_fit": _NOT_UNIT_INTERVAL,
    "check_readonly_memmap_input": _NOT_UNIT_INTERVAL,
    "check_transformer_data_not_an_array": _NOT_UNIT_INTERVAL,
    "check_transformer_general": _NOT_UNIT_INTERVAL,
    "check_transformer_preserve_dtypes": _NOT_UNIT_INTERVAL,
}

EXPECTED_FAILED_CHECKS = {
    "MaskedRBMImputer": {**_UNIT_INTERVAL_FAILURES, "check_is_fitted": _NOT_UNIT_INTERVAL},
    "LMRBMImputer": {**_UNIT_INTERVAL_FAILURES, "check_is_fitted": _NOT_UNIT_INTERVAL},
    "DiffusionInpaintImputer": {
        "check_dict_unchanged": _NOT_SQUARE,
        "check_dont_overwrite_parameters": _NOT_SQUARE,
        "check_dtype_object": _NOT_SQUARE,
        "check_estimators_dtypes": _NOT_SQUARE,
        "check_estimators_fit_returns_self": _NOT_SQUARE,
        "check_estimators_overwrite_params": _NOT_SQUARE,
        "check_estimators_pickle": _NOT_SQUARE,
        "check_f_contiguous_array_estimator": _NOT_SQUARE,
        "check_fit_check_is_fitted": _NOT_SQUARE,
        "check_fit2d_predict1d": _NOT_SQUARE,
        "check_fit2d_1sample": _NOT_SQUARE,
        "check_fit_idempotent": _NOT_SQUARE,
        "check_fit_score_takes_y": _NOT_SQUARE,
        "check_is_fitted": _NOT_SQUARE,
        "check_methods_sample_order_invariance": _NOT_SQUARE,
        "check_methods_subset_invariance": _NOT_SQUARE,
        "check_n_features_in": _NOT_SQUARE,
        "check_pipeline_consistency": _NOT_SQUARE,
        "check_readonly_memmap_input": _NOT_SQUARE,
        "check_transformer_data_not_an_array": _NOT_SQUARE,
        "check_transformer_general": _NOT_SQUARE,
        "check_transformer_preserve_dtypes": _NOT_SQUARE,
    },
    # check_transformer_n_iter runs on estimators with max_iter, on data outside [0, 1]
    "MisGANImputer": {**_UNIT_INTERVAL_FAILURES, "check_transformer_n_iter": _NOT_UNIT_INTERVAL},
}


def expected_failed_checks(estimator):
    """``{check_name: reason}`` for ``parametrize_with_checks``."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
