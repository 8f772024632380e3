"""Behaviours the torch-based imputers share: devices, pickling across machines, seeds."""

import pickle

import numpy as np
import pytest
import torch
from sklearn.base import clone

from _imputer_table import imputer_test_instances

TORCH_IMPUTERS = [est for est in imputer_test_instances() if "device" in est.get_params()]


def _ids(estimator):
    return type(estimator).__name__


def _data(seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(40, 16))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    return X


@pytest.mark.parametrize("imputer", TORCH_IMPUTERS, ids=_ids)
def test_model_saved_on_cuda_runs_on_the_cpu_with_a_warning(imputer, monkeypatch):
    """A model fitted on a GPU and unpickled where there is none falls back to the CPU.

    The fit runs on the CPU; the device parameter and the fitted device attributes are
    then set as a fit on CUDA leaves them.
    """
    X = _data()
    model = clone(imputer).set_params(random_state=0).fit(X)
    expected = model.transform(X)
    model.set_params(device="cuda")
    model.device_ = torch.device("cuda")
    saved = pickle.dumps(model)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.warns(UserWarning, match="CUDA is not available"):
        restored = pickle.loads(saved)
    np.testing.assert_array_equal(restored.transform(X), expected)
    assert restored.get_params()["device"] == "cpu"


@pytest.mark.parametrize("imputer", TORCH_IMPUTERS, ids=_ids)
@pytest.mark.parametrize("device", ["bogus", "cuda:x", "gpu", "meta"])
def test_a_bad_device_is_a_parameter_error(imputer, device):
    from sklearn.utils._param_validation import InvalidParameterError

    name = type(imputer).__name__
    with pytest.raises(InvalidParameterError,
                       match=rf"'device' parameter of {name} must be one of 'auto', 'cpu', "
                             rf"'cuda', 'cuda:<index>' .*; got {device!r} instead"):
        clone(imputer).set_params(device=device).fit(_data())


def test_check_device_is_public_and_resolves():
    from sklearn.utils._param_validation import InvalidParameterError

    from skrbm_impute.utils import check_device

    assert check_device("cpu") == torch.device("cpu")
    assert check_device(torch.device("cpu")) == torch.device("cpu")
    assert check_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    with pytest.raises(InvalidParameterError, match="'--device' parameter of skrbm-impute"):
        check_device("bogus", param_name="--device", caller="skrbm-impute")
    with pytest.raises(InvalidParameterError):
        check_device(torch.device("meta"))
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="CUDA is not available"):
            check_device("cuda:1")


@pytest.mark.parametrize("imputer", [est for est in TORCH_IMPUTERS
                                     if "n_threads" in est.get_params()], ids=_ids)
@pytest.mark.parametrize("n_threads", [True, False, 0, 1.5])
def test_n_threads_refuses_booleans(imputer, n_threads):
    from sklearn.utils._param_validation import InvalidParameterError

    with pytest.raises(InvalidParameterError, match="'n_threads' parameter"):
        clone(imputer).set_params(n_threads=n_threads).fit(_data())


@pytest.mark.parametrize("imputer", TORCH_IMPUTERS, ids=_ids)
@pytest.mark.parametrize("n_imputations", [True, False, 0, 2.0, np.bool_(True)])
def test_sample_imputations_refuses_booleans_and_non_integers(imputer, n_imputations):
    X = _data()
    model = clone(imputer).set_params(random_state=0).fit(X)
    with pytest.raises(ValueError, match="n_imputations must be a positive integer"):
        model.sample_imputations(X, n_imputations)
    assert model.sample_imputations(X, np.int64(2)).shape == (2,) + X.shape


@pytest.mark.parametrize("imputer", TORCH_IMPUTERS, ids=_ids)
def test_transform_computes_where_device_says_and_device_records_the_fit(imputer):
    X = _data()
    model = clone(imputer).set_params(random_state=0, device="auto").fit(X)
    expected = model.transform(X)
    assert model.device_ == torch.device("cuda" if torch.cuda.is_available() else "cpu")
    model.set_params(device="cpu")  # inference moves; the fitted device stays recorded
    np.testing.assert_allclose(model.transform(X), expected, atol=1e-5)
