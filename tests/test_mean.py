import numpy as np
import pytest

from skrbm_impute import MeanImputer


def test_statistics_are_observed_column_means():
    X = np.array([[0.0, np.nan, 1.0], [1.0, 0.4, np.nan], [np.nan, 0.6, 0.0], [0.5, np.nan, 1.0]])
    imputer = MeanImputer().fit(X)
    np.testing.assert_allclose(imputer.statistics_, [0.5, 0.5, 2 / 3])
    out = imputer.transform(X)
    assert out[2, 0] == 0.5 and out[0, 1] == 0.5 and out[1, 2] == imputer.statistics_[2]


def test_never_observed_feature_gets_fill_value():
    X = np.array([[np.nan, 1.0], [np.nan, 0.0]])
    assert MeanImputer(fill_value=0.3).fit(X).statistics_[0] == 0.3
    np.testing.assert_array_equal(MeanImputer().fit_transform(X)[:, 0], [0.0, 0.0])


def test_statistics_come_from_fit_data_only():
    train = np.array([[1.0], [1.0]])
    test = np.array([[np.nan], [0.0]])
    assert MeanImputer().fit(train).transform(test)[0, 0] == 1.0


def test_fill_value_is_validated():
    with pytest.raises(ValueError, match="fill_value"):
        MeanImputer(fill_value="zero").fit(np.ones((2, 2)))
