"""MisGAN's training budget in batches (``max_iter``) and its early slow-fit warning."""

import warnings

import numpy as np
import pytest
import torch

from skrbm_impute import MisGANImputer
from skrbm_impute.impute import _misgan
from skrbm_impute.exceptions import SlowFitWarning
from skrbm_impute.impute._misgan import SLOW_FIT_SECONDS

TINY = dict(architecture="fc", batch_size=16, latent_size=4, random_state=0)


def holes(n=48, d=16, seed=0):
    rng = np.random.RandomState(seed)
    X = rng.uniform(size=(n, d))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    return X


@pytest.mark.parametrize("n_samples", [10, 48, 200])
def test_max_iter_runs_exactly_that_many_batches_whatever_the_data_size(n_samples):
    # 10 digits: one batch per epoch; 48: 3 per epoch; 200: 12 per epoch (the last,
    # 13th pass is partial only if max_iter says so)
    est = MisGANImputer(max_iter=7, n_critic=3, **TINY).fit(holes(n=n_samples))
    assert est.n_iter_ == 7
    assert est.n_generator_updates_ == 2  # batches 3 and 6


def test_max_iter_wins_over_n_epochs():
    X = holes(n=48)  # 3 batches per epoch
    assert MisGANImputer(max_iter=5, n_epochs=0, **TINY).fit(X).n_iter_ == 5
    assert MisGANImputer(max_iter=5, n_epochs=100, **TINY).fit(X).n_iter_ == 5
    assert MisGANImputer(n_epochs=4, **TINY).fit(X).n_iter_ == 12  # None: n_epochs passes


def test_max_iter_equal_to_the_epochs_budget_trains_identically():
    X = holes(n=48)
    by_epochs = MisGANImputer(n_epochs=2, **TINY).fit(X)
    by_batches = MisGANImputer(max_iter=6, n_epochs=9, **TINY).fit(X)
    np.testing.assert_array_equal(by_epochs.transform(X), by_batches.transform(X))


def test_budgeted_fits_are_deterministic_and_depend_on_random_state():
    X = holes(n=48)
    first = MisGANImputer(max_iter=8, **TINY).fit(X).transform(X)
    again = MisGANImputer(max_iter=8, **TINY).fit(X).transform(X)
    other = MisGANImputer(max_iter=8, **dict(TINY, random_state=1)).fit(X).transform(X)
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


class _Snapshots(MisGANImputer):
    def _after_batch(self, networks):
        if self.n_iter_ == self.snapshot_at:
            self.snapshot = {k: v.clone() for k, v in networks.state_dict().items()}


def test_a_shorter_budget_is_the_start_of_a_longer_run():
    # what lets benchmarks/misgan_budget.py score budgets at checkpoints of one run
    X = holes(n=48)
    long_run = _Snapshots(max_iter=11, **TINY)
    long_run.snapshot_at = 7  # mid-epoch
    long_run.fit(X)
    short = MisGANImputer(max_iter=7, **TINY).fit(X).networks_.state_dict()
    assert short.keys() == long_run.snapshot.keys()
    for name, weights in short.items():
        torch.testing.assert_close(weights, long_run.snapshot[name], rtol=0, atol=0)
    assert not torch.equal(long_run.networks_.state_dict()["imputer.net.0.weight"],
                           short["imputer.net.0.weight"])


@pytest.mark.parametrize("max_iter", [0, -3, 2.5, "10"])
def test_bad_max_iter_is_refused(max_iter):
    with pytest.raises(ValueError, match="max_iter"):
        MisGANImputer(max_iter=max_iter, **TINY).fit(holes())


def test_verbose_bar_counts_batches():
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        MisGANImputer(max_iter=7, verbose=1, **TINY).fit(holes(n=48))
    assert "7/7" in err.getvalue() and "batch" in err.getvalue()


@pytest.fixture
def seconds_per_batch(monkeypatch):
    """Make every batch appear to take the given wall seconds (no real waiting)."""
    state = {"now": 0.0, "step": None}

    def fake_clock():
        state["now"] += state["step"]
        return state["now"]

    monkeypatch.setattr(_misgan, "_clock", fake_clock)

    def set_step(seconds):
        state["step"] = seconds

    return set_step


def test_long_fit_warns_early_with_projection_budget_and_remedies(seconds_per_batch):
    seconds_per_batch(60.0)  # 20 batches: a projected 20 minutes
    with pytest.warns(SlowFitWarning) as caught:
        MisGANImputer(max_iter=20, **TINY).fit(holes(n=48))
    assert len(caught) == 1  # once, not per batch
    message = str(caught[0].message)
    assert "projected to take 20 min" in message
    assert "20 batches (max_iter=20)" in message and "60 s per batch" in message
    assert f"(1) max_iter={int(SLOW_FIT_SECONDS / 60)}:" in message
    assert '(2) device="cuda"' in message
    assert 'architecture="fc"' not in message  # already fc
    assert caught[0].filename == __file__  # points at the user's fit call


def test_default_estimator_warning_names_fc_and_the_epochs_budget_in_hours():
    # the message MisGANImputer().fit(X) gives on 5,000 digits at 1.8 s per batch
    est = MisGANImputer()
    est.device_ = torch.device("cpu")
    with pytest.warns(SlowFitWarning) as caught:
        est._warn_slow_fit(projected=39_000 * 1.8, n_batches=39_000, batches_per_epoch=78)
    message = str(caught[0].message)
    assert "projected to take 19 h 30 min on cpu" in message
    assert "39000 batches (500 epochs x 78 batches) at 1.8 s per batch" in message
    assert '(1) architecture="fc"' in message and "(2) max_iter=333:" in message
    assert '(3) device="cuda"' in message


def test_fits_projected_under_ten_minutes_do_not_warn(seconds_per_batch):
    seconds_per_batch(SLOW_FIT_SECONDS / 10 - 1)  # 10 batches: just under the threshold
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MisGANImputer(max_iter=10, **TINY).fit(holes(n=48))


def test_a_real_short_fit_does_not_warn():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        MisGANImputer(max_iter=30, **TINY).fit(holes(n=48))


@pytest.mark.parametrize("batch_seconds, expected", [
    # 1 s batches: 5 s pass by batch 5; the first batch is left out of the rate
    ([1.0] * 10, [None] * 4 + [1000.0] + [None] * 5),
    # a slow first batch (one-off costs) is left out: projected from batch 2
    ([20.0] + [1.0] * 9, [None, 1000.0] + [None] * 8),
    # a first batch over FIRST_BATCH_SECONDS is projected from alone
    ([40.0] + [1.0] * 9, [40_000.0] + [None] * 9),
])
def test_the_projection_times_the_first_seconds_once(monkeypatch, batch_seconds, expected):
    steps = iter([0.0] + batch_seconds)  # the probe reads the clock when created
    now = [0.0]

    def clock():
        now[0] += next(steps)
        return now[0]

    monkeypatch.setattr(_misgan, "_clock", clock)
    probe = _misgan._DurationProbe(n_batches=1000)
    assert [probe.tick() for _ in batch_seconds] == expected


@pytest.mark.parametrize("name", ["max_iter", "n_epochs", "batch_size", "n_critic", "tau"])
def test_booleans_are_not_numbers(name):
    # True would otherwise pass as 1 (bool is an int subclass).
    X = np.full((8, 16), 0.5)
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match=name):
        MisGANImputer(architecture="fc", **{name: True}).fit(X)
