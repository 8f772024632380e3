"""Behaviours every imputer the package exports shares, on data with NaN.

scikit-learn's generic checks never feed NaN (except one pickle check), so this file
runs the package's own invariants (spec section 1) over the table in
``skrbm_impute.utils._testing``; a new imputer joins by being added there.
"""

import pickle

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

import skrbm_impute
from skrbm_impute.impute._base import BaseImputer
from skrbm_impute.utils._testing import imputer_test_instances

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
