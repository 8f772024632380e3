"""Early stopping of the RBM imputers on held-out observed entries."""

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from skrbm_impute import LMRBMImputer, MaskedRBMImputer
from skrbm_impute._numerics import rbm_training

MODELS = [LMRBMImputer, MaskedRBMImputer]
SMALL = dict(n_components=16, batch_size=32, learning_rate=1e-2, n_threads=1)


@pytest.fixture(scope="module")
def digits():
    X = load_digits().data[:300] / 16.0
    rng = np.random.RandomState(0)
    X[rng.rand(*X.shape) < 0.3] = np.nan
    return X


@pytest.fixture
def recorded_split(monkeypatch):
    """Records what ``HeldOutEntries.split`` returned in each fit."""
    calls = []
    split = rbm_training.HeldOutEntries.split.__func__

    def recording(cls, *args, **kwargs):
        result = split(cls, *args, **kwargs)
        calls.append(result)
        return result

    monkeypatch.setattr(rbm_training.HeldOutEntries, "split", classmethod(recording))
    return calls


@pytest.mark.parametrize("cls", MODELS)
def test_stops_after_n_iter_no_change_epochs_without_improvement(cls, digits):
    # No epoch can improve the score by 1 (an RMSE on the [0, 1] scale): the first
    # epoch sets the best score, the next n_iter_no_change ones stop the training.
    model = cls(n_epochs=30, early_stopping=True, n_iter_no_change=3, tol=1.0,
                random_state=0, **SMALL).fit(digits)
    assert model.n_iter_ == 4
    assert len(model.validation_scores_) == 4
    assert model.best_validation_score_ == max(model.validation_scores_)


@pytest.mark.parametrize("cls", MODELS)
def test_stops_on_a_plateau(cls, digits):
    # A vanishing learning rate: the scores stay flat (changes far below tol).
    flat = cls(n_epochs=40, early_stopping=True, n_iter_no_change=2, random_state=0,
               **dict(SMALL, learning_rate=1e-9)).fit(digits)
    assert flat.n_iter_ == 3
    assert np.ptp(flat.validation_scores_) < 1e-4


@pytest.mark.parametrize("cls", MODELS)
def test_keeps_the_parameters_of_the_best_epoch(cls, digits):
    params = dict(early_stopping=True, learning_rate_schedule="constant", random_state=0,
                  **SMALL)
    model = cls(n_epochs=6, n_iter_no_change=50, **params).fit(digits)
    best = int(np.argmax(model.validation_scores_)) + 1
    assert model.n_iter_ == 6 and model.best_validation_score_ == max(model.validation_scores_)
    # Training only up to the best epoch (the same updates: constant rate) ends there.
    upto_best = cls(n_epochs=best, n_iter_no_change=50, **params).fit(digits)
    np.testing.assert_array_equal(model.components_, upto_best.components_)
    np.testing.assert_array_equal(model.intercept_hidden_, upto_best.intercept_hidden_)


@pytest.mark.parametrize("cls", MODELS)
def test_n_epochs_caps_early_stopping(cls, digits):
    model = cls(n_epochs=3, early_stopping=True, n_iter_no_change=50, tol=0.0,
                random_state=0, **SMALL).fit(digits)
    assert model.n_iter_ == 3 and len(model.validation_scores_) == 3


@pytest.mark.parametrize("cls", MODELS)
def test_without_early_stopping_no_validation_attributes(cls, digits):
    model = cls(n_epochs=2, random_state=0, **SMALL).fit(digits)
    assert model.n_iter_ == 2
    assert model.validation_scores_ is None and model.best_validation_score_ is None


@pytest.mark.parametrize("cls", MODELS)
def test_early_stopping_is_deterministic(cls, digits):
    fits = [cls(n_epochs=8, early_stopping=True, n_iter_no_change=2, random_state=3,
                **SMALL).fit(digits) for _ in range(2)]
    assert fits[0].validation_scores_ == fits[1].validation_scores_
    np.testing.assert_array_equal(fits[0].components_, fits[1].components_)
    other = cls(n_epochs=8, early_stopping=True, n_iter_no_change=2, random_state=4,
                **SMALL).fit(digits)
    assert other.validation_scores_ != fits[0].validation_scores_


@pytest.mark.parametrize("cls", MODELS)
def test_held_out_entries_are_excluded_from_training(cls, digits, recorded_split):
    early = cls(n_epochs=1, early_stopping=True, validation_fraction=0.2, random_state=0,
                **SMALL).fit(digits)
    held_out, training_missing = recorded_split[0]
    missing = np.isnan(digits)
    held = held_out.held_out.numpy().astype(bool)
    assert held.sum() > 0 and not (held & missing[held_out.rows]).any()
    assert len(held_out.rows) == 60  # 0.2 of the 300 rows
    np.testing.assert_array_equal(training_missing[held_out.rows], missing[held_out.rows] | held)
    # Training on the held-out entries' being missing is the same fit, bit for bit:
    # the entries never reach the gradient (one epoch, so the best epoch is the last).
    X_without = digits.copy()
    X_without[training_missing] = np.nan
    plain = cls(n_epochs=1, random_state=0, **SMALL).fit(X_without)
    np.testing.assert_array_equal(early.components_, plain.components_)
    np.testing.assert_array_equal(early.intercept_visible_, plain.intercept_visible_)
    # ... whereas training on them gives another model.
    full = cls(n_epochs=1, random_state=0, **SMALL).fit(digits)
    assert not np.array_equal(full.components_, plain.components_)


@pytest.mark.parametrize("cls", MODELS)
def test_validation_never_sees_nan(cls, digits, recorded_split):
    model = cls(n_epochs=3, early_stopping=True, random_state=0, **SMALL).fit(digits)
    held_out, _ = recorded_split[0]
    for tensor in (held_out.v_obs, held_out.missing, held_out.targets, held_out.held_out):
        assert torch.isfinite(tensor).all()
    # The rows' holes and held-out entries are 0 in the model's input, and only
    # observed (held-out) values are targets.
    rows_missing = held_out.missing.numpy().astype(bool)
    assert (held_out.v_obs.numpy()[rows_missing] == 0).all()
    observed_values = np.nan_to_num(digits[held_out.rows])
    held = held_out.held_out.numpy().astype(bool)
    np.testing.assert_allclose(held_out.targets.numpy()[held], observed_values[held],
                               rtol=1e-6)
    assert np.isfinite(model.validation_scores_).all()
    assert all(-1 <= s <= 0 for s in model.validation_scores_)


@pytest.mark.parametrize("name, value", [("validation_fraction", 0.0),
                                         ("validation_fraction", 1.0),
                                         ("n_iter_no_change", 0), ("tol", -1e-3),
                                         ("early_stopping", "yes")])
def test_early_stopping_parameters_are_validated(name, value, digits):
    with pytest.raises(ValueError, match=name):
        LMRBMImputer(n_epochs=1, **{name: value}, **SMALL).fit(digits)
