"""Estimators under faults: diverging MisGAN, non-finite parameters, float16 and pd.NA
input."""

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.utils._param_validation import InvalidParameterError

from skrbm_impute import MisGANImputer
from skrbm_impute.impute import DiffusionInpaintImputer, MeanImputer


def _holes(n=64, d=16, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, d))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    return X


def _small_misgan(**params):
    return MisGANImputer(architecture="fc", n_epochs=3, batch_size=16, latent_size=8,
                         random_state=0, **params)


@pytest.mark.parametrize("param", ["learning_rate", "imputer_learning_rate"])
def test_diverging_misgan_raises_naming_epoch_and_remedy(param):
    with pytest.raises(FloatingPointError) as error:
        _small_misgan(**{param: 1e6}).fit(_holes())
    message = str(error.value)
    assert "non-finite weights" in message and "in epoch 1 of 3" in message
    assert f"{param}=1e+06" in message and "use smaller learning rates" in message


def test_misgan_transform_never_returns_nan():
    X = _holes()
    imputer = _small_misgan().fit(X)
    assert not np.isnan(imputer.transform(X)).any()
    with torch.no_grad():  # a model broken after fitting (e.g. edited weights)
        next(imputer.networks_["imputer"].parameters()).fill_(float("nan"))
    with pytest.raises(FloatingPointError, match="imputer network returned non-finite"):
        imputer.transform(X)


@pytest.mark.parametrize("estimator", [
    MeanImputer(fill_value=np.nan), MeanImputer(fill_value=np.inf),
    DiffusionInpaintImputer(init=np.nan, image_shape=(4, 4)),
    DiffusionInpaintImputer(init=-np.inf, image_shape=(4, 4)),
])
def test_non_finite_fill_values_are_refused(estimator):
    with pytest.raises(InvalidParameterError, match="fill_value|init"):
        estimator.fit(_holes())


def test_finite_fill_values_still_work():
    X = _holes()
    X[:, 0] = np.nan
    assert (MeanImputer(fill_value=-3.5).fit(X).transform(X)[:, 0] == -3.5).all()
    out = DiffusionInpaintImputer(init=0.5, n_iter=0, image_shape=(4, 4)).fit_transform(X)
    assert (out[np.isnan(X)] == 0.5).all()


def test_float16_becomes_float64_with_correct_statistics():
    X = np.ones((70_000, 2), dtype=np.float16)  # float16 sums overflow past 65504
    X[0, 0] = np.nan
    imputer = MeanImputer().fit(X)
    np.testing.assert_array_equal(imputer.statistics_, [1.0, 1.0])
    out = imputer.transform(X[:3])
    assert out.dtype == np.float64 and out[0, 0] == 1.0
    small = _holes().astype(np.float16)
    out = MeanImputer().fit_transform(small)
    observed = ~np.isnan(small)
    np.testing.assert_array_equal(out[observed], small[observed].astype(np.float64))
    assert MeanImputer().fit_transform(small.astype(np.float32)).dtype == np.float32


def test_pd_na_in_object_input_is_missing():
    values = [[0.5, 0.1], [pd.NA, 0.2], [0.25, None]]
    frame = pd.DataFrame(values, columns=["a", "b"], dtype=object)
    imputer = MeanImputer().fit(frame)
    np.testing.assert_allclose(imputer.statistics_, [0.375, 0.15])
    np.testing.assert_allclose(imputer.transform(frame), [[0.5, 0.1], [0.375, 0.2],
                                                          [0.25, 0.15]])
    assert list(imputer.get_feature_names_out()) == ["a", "b"]
    array = np.array(values, dtype=object)
    np.testing.assert_allclose(MeanImputer().fit_transform(array), imputer.transform(frame))
    nullable = pd.DataFrame({"a": pd.array([0.5, None, 0.25], dtype="Float64")})
    np.testing.assert_allclose(MeanImputer().fit_transform(nullable).ravel(), [0.5, 0.375, 0.25])
    with pytest.raises(ValueError, match="could not convert string to float: 'x'"):
        MeanImputer().fit(pd.DataFrame({"a": ["x", pd.NA]}, dtype=object))
