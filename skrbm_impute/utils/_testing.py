"""The table of test instances and expected scikit-learn check failures.

A new imputer joins every shared test (``tests/test_common.py`` and the
scikit-learn estimator checks) by adding a cheap instance to ``TEST_INSTANCES``
and, if some generic check cannot apply to it, an entry with the reason to
``EXPECTED_FAILED_CHECKS``.
"""


def _build_instances():
    from ..impute import (
        DiffusionInpaintImputer,
        LMRBMImputer,
        MaskedRBMImputer,
        MeanImputer,
        MisGANImputer,
    )

    return [
        MeanImputer(),
        DiffusionInpaintImputer(n_iter=20),
        MisGANImputer(
            architecture="fc", n_epochs=1, batch_size=16, latent_size=8, random_state=0
        ),
        MaskedRBMImputer(n_components=8, n_epochs=2, learning_rate=1e-2),
        LMRBMImputer(n_components=8, n_epochs=2, learning_rate=1e-2),
    ]


def imputer_test_instances():
    """Fresh, cheap instances of every imputer the package exports."""
    return _build_instances()


_NOT_SQUARE = (
    "the generic checks use feature counts that are not perfect squares; an image "
    "imputer with image_shape=None rightly refuses them; tests/test_common.py runs the same\n"
    "behaviours on square images"
)

_NOT_UNIT_INTERVAL = (
    "the generic checks draw values outside [0, 1] (normal, shifted or scaled data); a "
    "model of [0, 1] data rightly refuses them with a ValueError; tests/test_common.py and "
    "tests/test_misgan.py run the same behaviours (pickling, dtypes, subset and order "
    "invariance, idempotent fit) on [0, 1] data"
)

_RBM_NOT_UNIT_INTERVAL = (
    "the generic checks feed values outside [0, 1] (Gaussian or shifted data); an RBM "
    "imputer models [0, 1] values and rightly raises the ValueError of the spec (§1); "
    "tests/test_rbm.py and tests/test_common.py run these behaviours on [0, 1] data"
)

_RBM_EXPECTED_FAILURES = {
        "check_dict_unchanged": _RBM_NOT_UNIT_INTERVAL,
        "check_dont_overwrite_parameters": _RBM_NOT_UNIT_INTERVAL,
        "check_estimators_dtypes": _RBM_NOT_UNIT_INTERVAL,
        "check_estimators_fit_returns_self": _RBM_NOT_UNIT_INTERVAL,
        "check_estimators_overwrite_params": _RBM_NOT_UNIT_INTERVAL,
        "check_estimators_pickle": _RBM_NOT_UNIT_INTERVAL,
        "check_f_contiguous_array_estimator": _RBM_NOT_UNIT_INTERVAL,
        "check_fit2d_1feature": _RBM_NOT_UNIT_INTERVAL,
        "check_fit2d_1sample": _RBM_NOT_UNIT_INTERVAL,
        "check_fit_check_is_fitted": _RBM_NOT_UNIT_INTERVAL,
        "check_fit2d_predict1d": _RBM_NOT_UNIT_INTERVAL,
        "check_fit_idempotent": _RBM_NOT_UNIT_INTERVAL,
        "check_is_fitted": _RBM_NOT_UNIT_INTERVAL,
        "check_methods_sample_order_invariance": _RBM_NOT_UNIT_INTERVAL,
        "check_methods_subset_invariance": _RBM_NOT_UNIT_INTERVAL,
        "check_n_features_in": _RBM_NOT_UNIT_INTERVAL,
        "check_n_features_in_after_fitting": _RBM_NOT_UNIT_INTERVAL,
        "check_pipeline_consistency": _RBM_NOT_UNIT_INTERVAL,
        "check_positive_only_tag_during_fit": _RBM_NOT_UNIT_INTERVAL,
        "check_readonly_memmap_input": _RBM_NOT_UNIT_INTERVAL,
        "check_transformer_data_not_an_array": _RBM_NOT_UNIT_INTERVAL,
        "check_transformer_general": _RBM_NOT_UNIT_INTERVAL,
        "check_transformer_preserve_dtypes": _RBM_NOT_UNIT_INTERVAL,
}

EXPECTED_FAILED_CHECKS = {
    "MaskedRBMImputer": _RBM_EXPECTED_FAILURES,
    "LMRBMImputer": _RBM_EXPECTED_FAILURES,
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
    "MisGANImputer": {
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
    },
}


def expected_failed_checks(estimator):
    """``{check_name: reason}`` for ``parametrize_with_checks``."""
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
