"""Behaviours every imputer the package exports shares, on data with NaN.

scikit-learn's generic checks never feed NaN (except one pickle check), so this file
runs the package's own imputer invariants over the table in
``tests/_imputer_table.py``; a new imputer joins by being added there.
"""

import pickle

import joblib
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import FLOAT_DTYPES, validate_data

import skrbm_impute
from skrbm_impute import MeanImputer
from skrbm_impute.impute._base import BaseImputer
from _imputer_table import imputer_test_instances

IMPUTERS = imputer_test_instances()


def _ids(estimator):
    return type(estimator).__name__


def _with_seed(estimator, seed=0):
    if "random_state" in estimator.get_params():
        estimator = clone(estimator).set_params(random_state=seed)
    return clone(estimator)


def test_table_covers_every_exported_imputer():
    exported = {
        name for name in skrbm_impute.__all__
        if isinstance(getattr(skrbm_impute, name), type)
        and issubclass(getattr(skrbm_impute, name), BaseImputer)
    }
    assert exported == {type(est).__name__ for est in IMPUTERS}


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_fills_every_hole_and_keeps_observed_bits(imputer, nan_images):
    X = nan_images
    before = X.copy()
    out = _with_seed(imputer).fit(X).transform(X)
    missing = np.isnan(X)
    assert out.shape == X.shape
    assert not np.isnan(out).any()
    assert np.array_equal(out[~missing].view(np.uint64), X[~missing].view(np.uint64))
    assert np.array_equal(X, before, equal_nan=True)  # input untouched
    assert out is not X


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_same_random_state_same_output_and_pickle(imputer, nan_images):
    first = _with_seed(imputer).fit(nan_images)
    second = _with_seed(imputer).fit(nan_images)
    out = first.transform(nan_images)
    np.testing.assert_array_equal(out, second.transform(nan_images))
    np.testing.assert_array_equal(out, first.transform(nan_images))  # transform is repeatable
    restored = pickle.loads(pickle.dumps(first))
    np.testing.assert_array_equal(out, restored.transform(nan_images))


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_new_rows_with_different_holes(imputer, nan_images):
    est = _with_seed(imputer).fit(nan_images[:20])
    X_new = nan_images[20:].copy()
    X_new[:, 5] = np.nan  # a hole that training rows never had
    out = est.transform(X_new)
    assert not np.isnan(out).any()
    assert np.array_equal(out[~np.isnan(X_new)], X_new[~np.isnan(X_new)])


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_complete_rows_pass_through(imputer, nan_images):
    est = _with_seed(imputer).fit(nan_images)
    complete = np.nan_to_num(nan_images, nan=0.25)
    np.testing.assert_array_equal(est.transform(complete), complete)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_float32_stays_float32(imputer, nan_images):
    X32 = nan_images.astype(np.float32)
    out = _with_seed(imputer).fit(X32).transform(X32)
    assert out.dtype == np.float32
    assert np.array_equal(out[~np.isnan(X32)], X32[~np.isnan(X32)])


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_pandas_in_and_out(imputer, nan_images):
    columns = [f"px{i}" for i in range(nan_images.shape[1])]
    frame = pd.DataFrame(nan_images, columns=columns)
    est = _with_seed(imputer).set_output(transform="pandas").fit(frame)
    out = est.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == columns
    assert list(est.get_feature_names_out()) == columns
    assert not out.isna().any().any()


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_all_nan_column_and_row_are_filled(imputer, nan_images):
    X = nan_images.copy()
    X[:, 3] = np.nan
    X[4] = np.nan
    out = _with_seed(imputer).fit(X).transform(X)
    assert out.shape == X.shape
    assert np.isfinite(out).all()


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_bad_input_is_refused_clearly(imputer, nan_images):
    est = _with_seed(imputer)
    with pytest.raises(ValueError, match="2D array"):
        clone(est).fit(nan_images[0])
    with pytest.raises(ValueError, match="infinity"):
        bad = nan_images.copy()
        bad[1, 1] = np.inf
        clone(est).fit(bad)
    with pytest.raises(ValueError, match="convert|could not"):
        clone(est).fit(np.array([["a", "b", "c", "d"]] * 4))
    fitted = clone(est).fit(nan_images)
    X_wide = np.hstack([nan_images, nan_images])[:, :25]
    with pytest.raises(ValueError, match="features"):
        fitted.transform(X_wide)
    with pytest.raises(ValueError, match="infinity"):
        bad = nan_images.copy()
        bad[2, 2] = -np.inf
        fitted.transform(bad)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_in_pipeline_grid_search(imputer, nan_images):
    X = np.vstack([nan_images, nan_images[::-1]])
    y = np.arange(len(X)) % 2
    pipe = Pipeline([("impute", _with_seed(imputer)), ("clf", LogisticRegression())])
    grid = GridSearchCV(pipe, {"clf__C": [0.1, 1.0]}, cv=2, error_score="raise")
    grid.fit(X, y)
    assert grid.predict(X).shape == y.shape


def _nan_image_batches():
    """Hypothesis: (n, side*side) arrays in [0, 1] with an arbitrary NaN pattern."""
    shapes = st.tuples(st.integers(2, 6), st.sampled_from([2, 3, 4]))
    return shapes.flatmap(
        lambda shape: st.tuples(
            arrays(np.float64, (shape[0], shape[1] ** 2),
                   elements=st.floats(0.0, 1.0, allow_nan=False)),
            arrays(np.bool_, (shape[0], shape[1] ** 2)),
        )
    )


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=_nan_image_batches(), seed=st.integers(0, 2**16))
def test_invariants_hold_for_any_nan_pattern(imputer, batch, seed):
    values, missing = batch
    X = np.where(missing, np.nan, values)
    before = X.copy()
    est = _with_seed(imputer, seed).fit(X)
    out = est.transform(X)
    assert out.shape == X.shape
    assert not np.isnan(out).any()
    assert np.array_equal(out[~missing].view(np.uint64), X[~missing].view(np.uint64))
    assert np.array_equal(X, before, equal_nan=True)
    np.testing.assert_array_equal(_with_seed(imputer, seed).fit(X).transform(X), out)
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(est)).transform(X), out)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_unit_interval_models_refuse_other_values(imputer, nan_images):
    X = nan_images * 3.0 - 1.0  # observed values in [-1, 2]
    est = _with_seed(imputer)
    if type(est)._requires_unit_interval:
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            est.fit(X)
        fitted = _with_seed(imputer).fit(nan_images)
        with pytest.raises(ValueError, match=r"\[0, 1\]"):
            fitted.transform(X)
    else:
        out = est.fit(X).transform(X)
        assert np.array_equal(out[~np.isnan(X)], X[~np.isnan(X)])


# ------------------------------------------------------------------------------------
# Our versions, on valid [0, 1] square-image data with NaN, of the scikit-learn checks
# that the generic suite cannot run for the image and [0, 1] imputers (listed in
# _imputer_table.EXPECTED_FAILED_CHECKS): read-only memmap input,
# Fortran-ordered input, parameters not overwritten by fit, __dict__ unchanged by
# transform.  Each is a function that raises AssertionError, so that
# test_own_checks_catch_broken_imputers can show that every one of them can fail.

def check_readonly_memmap_input(imputer, X, tmp_path):
    """Like check_readonly_memmap_input: fit/transform a read-only memmap, same output."""
    np.save(tmp_path / "X.npy", X)
    X_map = np.load(tmp_path / "X.npy", mmap_mode="r")
    assert not X_map.flags.writeable
    expected = _with_seed(imputer).fit(X).transform(X)
    out = _with_seed(imputer).fit(X_map).transform(X_map)
    np.testing.assert_array_equal(out, expected)
    np.testing.assert_array_equal(np.asarray(X_map), X)


def check_f_contiguous_input(imputer, X):
    """Like check_f_contiguous_array_estimator: Fortran order gives the C-order result."""
    X_f = np.asfortranarray(X)
    assert X_f.flags.f_contiguous and not X_f.flags.c_contiguous
    expected = _with_seed(imputer).fit(X).transform(X)
    fitted = _with_seed(imputer).fit(X_f)
    # Reductions may sum in another order on Fortran data: equal up to rounding.
    np.testing.assert_allclose(fitted.transform(X_f), expected, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(fitted.transform(X), expected, rtol=1e-12, atol=1e-12)


def check_parameters_not_overwritten(imputer, X):
    """Like check_dont_overwrite_parameters and check_estimators_overwrite_params."""
    est = _with_seed(imputer)
    params = est.get_params(deep=False)
    hashes = {name: joblib.hash(value) for name, value in params.items()}
    public_before = {k for k in vars(est) if not k.startswith("_")}
    est.fit(X)
    after = est.get_params(deep=False)
    changed = [name for name in params if joblib.hash(after[name]) != hashes[name]]
    assert not changed, f"fit changed the parameters {changed}"
    added = {k for k in vars(est) if not k.startswith("_")} - public_before
    assert all(k.endswith("_") for k in added), (
        f"fit added public attributes without a trailing underscore: "
        f"{sorted(k for k in added if not k.endswith('_'))}")


def check_dict_unchanged_by_transform(imputer, X):
    """Like check_dict_unchanged: transform neither adds, removes nor mutates attributes."""
    est = _with_seed(imputer).fit(X)
    before = {name: (value, joblib.hash(value)) for name, value in vars(est).items()}
    est.transform(X)
    est.transform(X[::-1])
    assert set(vars(est)) == set(before), (
        f"transform changed the attribute set: {set(vars(est)) ^ set(before)}")
    for name, (value, digest) in before.items():
        assert vars(est)[name] is value, f"transform replaced {name}"
        assert joblib.hash(vars(est)[name]) == digest, f"transform mutated {name}"


OWN_CHECKS = {
    "readonly_memmap": lambda est, X, tmp_path: check_readonly_memmap_input(est, X, tmp_path),
    "f_contiguous": lambda est, X, tmp_path: check_f_contiguous_input(est, X),
    "params_not_overwritten": lambda est, X, tmp_path: check_parameters_not_overwritten(est, X),
    "dict_unchanged": lambda est, X, tmp_path: check_dict_unchanged_by_transform(est, X),
}


@pytest.mark.parametrize("check", OWN_CHECKS, ids=str)
@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_own_versions_of_sklearn_checks(imputer, check, nan_images, tmp_path):
    OWN_CHECKS[check](imputer, nan_images, tmp_path)


class _WritesIntoInput(MeanImputer):
    def _validate_input(self, X, *, reset):  # skips the copy, then writes into X
        X = validate_data(self, X, reset=reset, dtype=FLOAT_DTYPES,
                          ensure_all_finite="allow-nan", copy=False)
        return X, np.isnan(X)


class _OrderDependent(MeanImputer):
    def _fit(self, X, missing):
        super()._fit(X, missing)
        self.fortran_ = X.flags.f_contiguous

    def _impute(self, X, missing):
        return np.full(X.shape, 0.5 if self.fortran_ else 0.25)


class _OverwritesParameter(MeanImputer):
    def _fit(self, X, missing):
        super()._fit(X, missing)
        self.fill_value = 1.0
        self.cache = "set in fit"


class _MutatesInTransform(MeanImputer):
    def _impute(self, X, missing):
        self.statistics_ = self.statistics_ + 1.0
        return super()._impute(X, missing)


@pytest.mark.parametrize("broken, check", [
    (_WritesIntoInput, "readonly_memmap"),
    (_OrderDependent, "f_contiguous"),
    (_OverwritesParameter, "params_not_overwritten"),
    (_MutatesInTransform, "dict_unchanged"),
], ids=lambda x: getattr(x, "__name__", x))
def test_own_checks_catch_broken_imputers(broken, check, nan_images, tmp_path):
    with pytest.raises((AssertionError, ValueError)):
        OWN_CHECKS[check](broken(), nan_images, tmp_path)


# ------------------------------------------------------------------------------------
# Reliability: parameters read at transform are checked there, an interrupted fit
# leaves the estimator as it was, messages show the offending values exactly.

#: Per imputer: values of the parameters that ``transform`` reads, each invalid.
_BAD_TRANSFORM_PARAMS = {
    "MeanImputer": [],
    "DiffusionInpaintImputer": [("kernel", 3), ("n_iter", -1), ("init", np.nan),
                                ("mode", "bogus"), ("kernel", True)],
    "MaskedRBMImputer": [("perception", 1.5), ("perception", -0.5), ("perception", np.nan),
                         ("imputation", "bogus"), ("n_threads", 0), ("n_threads", True),
                         ("device", "bogus")],
    "LMRBMImputer": [("perception", 1.5), ("perception", -0.5), ("perception", np.nan),
                     ("imputation", "bogus"), ("n_threads", 0), ("n_threads", True),
                     ("device", "bogus")],
    "MisGANImputer": [("device", "bogus"), ("device", 3)],
    "TabularRBMImputer": [("imputation", "bogus"), ("n_imputation_steps", 0),
                          ("n_threads", 0), ("n_threads", True), ("device", "bogus")],
}


def _bad_transform_params():
    return [pytest.param(imputer, name, value, id=f"{_ids(imputer)}-{name}={value!r}")
            for imputer in IMPUTERS
            for name, value in _BAD_TRANSFORM_PARAMS[type(imputer).__name__]]


def test_bad_transform_params_table_covers_every_imputer():
    assert set(_BAD_TRANSFORM_PARAMS) == {type(est).__name__ for est in IMPUTERS}
    for est in IMPUTERS:  # every parameter transform reads has a bad value listed
        listed = {name for name, _ in _BAD_TRANSFORM_PARAMS[type(est).__name__]}
        assert listed == set(type(est)._transform_parameters)


@pytest.mark.parametrize(("imputer", "name", "value"), _bad_transform_params())
def test_parameters_read_at_transform_are_checked_there_as_at_fit(imputer, name, value,
                                                                   nan_images):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match=repr(name)) as at_fit:
        _with_seed(imputer).set_params(**{name: value}).fit(nan_images)
    fitted = _with_seed(imputer).fit(nan_images)
    expected = fitted.transform(nan_images)
    fitted.set_params(**{name: value})
    methods = [fitted.transform]
    for method in ("transform_hidden", "sample_imputations", "transform_perception_levels"):
        if hasattr(fitted, method):
            methods.append(getattr(fitted, method))
    for method in methods:
        args = ([0.5],) if method.__name__ == "transform_perception_levels" else ()
        with pytest.raises(InvalidParameterError) as at_transform:
            method(nan_images, *args)
        assert str(at_transform.value) == str(at_fit.value)
    fitted.set_params(**{name: imputer.get_params()[name]})
    np.testing.assert_array_equal(fitted.transform(nan_images), expected)


class _Interrupt:
    """Replaces ``module.name``; raises KeyboardInterrupt at call ``after + 1``."""

    def __init__(self, monkeypatch, module, name, after):
        self.original, self.after, self.calls = getattr(module, name), after, 0
        monkeypatch.setattr(module, name, self)

    def __call__(self, *args, **kwargs):
        self.calls += 1
        if self.calls > self.after:
            raise KeyboardInterrupt
        return self.original(*args, **kwargs)


def _interrupt_mid_fit(imputer, monkeypatch):
    """Make the next fit of ``imputer`` stop with KeyboardInterrupt inside training."""
    from skrbm_impute._numerics import rbm
    from skrbm_impute.impute import _base, _mean, _misgan

    name = type(imputer).__name__
    if name == "MeanImputer":
        return _Interrupt(monkeypatch, _mean, "observed_mean", 0)
    if name == "DiffusionInpaintImputer":
        return _Interrupt(monkeypatch, _base, "resolve_image_shape", 0)
    if name == "MisGANImputer":
        return _Interrupt(monkeypatch, _misgan, "train_step", 0)  # its one batch
    if name == "TabularRBMImputer":
        from skrbm_impute._numerics import tabular_rbm

        return _Interrupt(monkeypatch, tabular_rbm, "cd_gradients", 1)  # second epoch
    return _Interrupt(monkeypatch, rbm, "cd1_step", 1)  # in the second epoch


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_interrupted_first_fit_leaves_an_unfitted_estimator(imputer, nan_images,
                                                            monkeypatch):
    from sklearn.exceptions import NotFittedError

    est = _with_seed(imputer)
    before = dict(vars(est))
    interrupt = _interrupt_mid_fit(est, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        est.fit(nan_images)
    assert interrupt.calls > interrupt.after  # it stopped inside the fit
    assert vars(est).keys() == before.keys()
    with pytest.raises(NotFittedError):
        est.transform(nan_images)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_interrupted_refit_keeps_the_previous_model(imputer, nan_images, monkeypatch):
    est = _with_seed(imputer).fit(nan_images)
    expected = est.transform(nan_images)
    state = {key: value for key, value in vars(est).items()}
    rng = np.random.RandomState(1)
    X_other = rng.random_sample((30, 25))  # 5x5 images: another feature count
    X_other[rng.random_sample(X_other.shape) < 0.3] = np.nan
    X_other[0] = 0.5
    _interrupt_mid_fit(est, monkeypatch)
    with pytest.raises(KeyboardInterrupt):
        est.fit(X_other)
    monkeypatch.undo()
    assert est.n_features_in_ == 16
    assert vars(est).keys() == state.keys()
    assert all(vars(est)[key] is value for key, value in state.items())
    np.testing.assert_array_equal(est.transform(nan_images), expected)


@pytest.mark.parametrize("imputer", IMPUTERS, ids=_ids)
def test_out_of_range_message_shows_the_offending_value_exactly(imputer, nan_images):
    if not type(imputer)._requires_unit_interval:
        pytest.skip("models any real values")
    X = nan_images.copy()
    X[1, 1] = 1 + 1e-12
    with pytest.raises(ValueError, match=r"1\.000000000001\]"):
        _with_seed(imputer).fit(X)
    X[1, 1] = -5e-324  # the smallest negative float
    with pytest.raises(ValueError, match=r"\[-5e-324, "):
        _with_seed(imputer).fit(X)
