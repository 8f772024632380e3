"""TabularRBMImputer: its numerics against NumPy references, categorical handling, units,
output types, posterior draws and error messages."""

import itertools
import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone

from skrbm_impute import TabularRBMImputer
from skrbm_impute._numerics import tabular_rbm as core

FAST = dict(n_components=8, n_epochs=3, n_imputation_steps=5, random_state=0)


# ------------------------------------------------------------------------- numerics
def _model(n_numeric=3, n_categories=(2, 3), n_hidden=4, seed=0, dtype=torch.float64,
           n_linear=0):
    """A random model and a random complete visible batch (one-hot blocks); the last
    ``n_linear`` of the ``n_hidden`` units are linear, their biases 0 as in training."""
    layout = core.VisibleLayout.build(n_numeric, n_categories)
    g = torch.Generator().manual_seed(seed)
    params = core.Parameters(
        torch.randn(layout.n_visible, generator=g, dtype=dtype),
        torch.randn(layout.n_visible, n_hidden, generator=g, dtype=dtype) * 0.5,
        torch.randn(n_hidden, generator=g, dtype=dtype),
        torch.randn(n_numeric, generator=g, dtype=dtype) * 0.3,
        n_linear=n_linear,
    )
    params.hidden_bias[n_hidden - n_linear:] = 0.0
    core.project_linear_block(params, layout)
    rng = np.random.RandomState(seed)
    rows = 5
    numeric = rng.normal(size=(rows, n_numeric))
    blocks = [np.eye(k)[rng.randint(k, size=rows)] for k in n_categories]
    v = torch.as_tensor(np.hstack([numeric, *blocks]), dtype=dtype)
    return layout, params, v


def _numpy_params(params):
    return [t.numpy() for t in params.tensors()]


def test_layout_places_numeric_units_first_then_one_block_per_column():
    layout = core.VisibleLayout.build(2, [3, 1, 2])
    assert layout.n_visible == 8
    assert layout.block_index[0, :3].tolist() == [2, 3, 4]
    assert layout.unit_block.tolist() == [0, 0, 0, 1, 2, 2]
    missing = layout.expand_missing(torch.tensor([[True, False]]),
                                    torch.tensor([[False, True, True]]))
    assert missing.tolist() == [[True, False, False, False, False, True, True, True]]
    one_hot = layout.one_hot(torch.tensor([[2, 0, -1]]))
    assert one_hot.tolist() == [[0, 0, 1, 1, 0, 0]]


def test_conditionals_match_a_plain_numpy_computation():
    layout, params, v = _model()
    b, W, c, log_var = _numpy_params(params)
    x = v.numpy()
    n = layout.n_numeric
    scale = np.concatenate([np.exp(-log_var), np.ones(layout.n_visible - n)])
    expected_h = 1 / (1 + np.exp(-(x * scale @ W + c)))
    np.testing.assert_allclose(core.hidden_means(v, params, layout).numpy(),
                               expected_h, rtol=1e-12)
    h = (expected_h > 0.5).astype(float)
    pre = h @ W.T + b
    expected_v = pre.copy()
    start = n
    for k in (2, 3):  # softmax over each block
        block = np.exp(pre[:, start:start + k])
        expected_v[:, start:start + k] = block / block.sum(1, keepdims=True)
        start += k
    means = core.visible_means(torch.as_tensor(h), params, layout).numpy()
    np.testing.assert_allclose(means, expected_v, rtol=1e-12)


def test_free_energy_is_minus_log_sum_over_hidden_states_of_exp_minus_energy():
    layout, params, v = _model(n_hidden=4)
    states = torch.tensor(list(itertools.product([0.0, 1.0], repeat=4)),
                          dtype=torch.float64)
    for row in v:
        rows = row.expand(len(states), -1)
        energies = core.energy(rows, states, params, layout)
        expected = -torch.logsumexp(-energies, dim=0)
        actual = core.free_energy(row[None], params, layout)[0]
        assert float(actual) == pytest.approx(float(expected), rel=1e-10)


@pytest.mark.parametrize("n_linear", [0, 2])
def test_free_energy_gradients_match_finite_differences(n_linear):
    layout, params, v = _model(n_hidden=4 + n_linear, n_linear=n_linear)
    gradients = core.free_energy_gradients(v, params, layout)
    step = 1e-6
    for tensor, gradient in zip(params.tensors(), gradients):
        flat, expected = tensor.view(-1), torch.empty(tensor.numel(), dtype=torch.float64)
        for i in range(tensor.numel()):
            saved = float(flat[i])
            flat[i] = saved + step
            up = float(core.free_energy(v, params, layout).mean())
            flat[i] = saved - step
            down = float(core.free_energy(v, params, layout).mean())
            flat[i] = saved
            expected[i] = (up - down) / (2 * step)
        np.testing.assert_allclose(gradient.reshape(-1).numpy(), expected.numpy(),
                                   rtol=1e-5, atol=1e-7)


def test_visible_draws_follow_the_conditional():
    layout, params, _ = _model(n_numeric=1, n_categories=(3,), n_hidden=2,
                               dtype=torch.float32)
    h = torch.tensor([[1.0, 0.0]]).expand(20000, -1)
    g = torch.Generator().manual_seed(1)
    draws, means = core.sample_visible(h, params, layout, g)
    assert float(draws[:, 0].mean()) == pytest.approx(float(means[0, 0]), abs=0.03)
    sigma = float(torch.exp(0.5 * params.log_var[0]))
    assert float(draws[:, 0].std()) == pytest.approx(sigma, rel=0.03)
    assert set(draws[:, 1:].sum(1).tolist()) == {1.0}  # one category per draw
    np.testing.assert_allclose(draws[:, 1:].mean(0).numpy(), means[0, 1:].numpy(),
                               atol=0.015)


def test_clamped_gibbs_step_redraws_only_the_missing_units():
    layout, params, v = _model(dtype=torch.float32)
    missing = layout.expand_missing(torch.tensor([[True, False, False]] * 5),
                                    torch.tensor([[False, True]] * 5))
    g = torch.Generator().manual_seed(0)
    new, _ = core.clamped_gibbs_step(v, missing, params, layout, g)
    assert torch.equal(new[~missing], v[~missing])
    assert not torch.equal(new[missing], v[missing])
    assert set(new[:, 5:].sum(1).tolist()) == {1.0}


# ------------------------------------------------------------------ the estimator
def _related_table(n=200, seed=0):
    """x1 ~ N(0, 1) in raw units of 1000, x2 = 2 x1 + small noise (+50), a category
    that is x1's sign; 20 % missing."""
    rng = np.random.RandomState(seed)
    x1 = rng.normal(size=n)
    X = np.column_stack([1000 * x1, 2000 * x1 + 50 + 100 * rng.normal(size=n),
                         np.where(x1 > 0, 7.0, -3.0)])
    missing = rng.rand(n, 3) < 0.2
    missing[:, 0] = False  # x1 always seen: the others are predictable from it
    return X, np.where(missing, np.nan, X), missing


def test_imputes_in_raw_units_and_recovers_relations():
    X, X_nan, missing = _related_table()
    imputer = TabularRBMImputer(categorical_features=[2], n_epochs=60, learning_rate=1e-2,
                                random_state=0)
    out = imputer.fit(X_nan).transform(X_nan)
    holes = missing[:, 1]
    error = np.sqrt(np.mean((out[holes, 1] - X[holes, 1]) ** 2))
    mean_error = np.sqrt(np.mean((np.nanmean(X_nan[:, 1]) - X[holes, 1]) ** 2))
    assert error < 0.5 * mean_error  # uses x1, in the input's units
    holes = missing[:, 2]
    assert set(np.unique(out[holes, 2])) <= {-3.0, 7.0}
    assert np.mean(out[holes, 2] == X[holes, 2]) > 0.85
    np.testing.assert_array_equal(imputer.categories_[0], [-3.0, 7.0])
    assert imputer.mean_[0] == pytest.approx(X[:, 0].mean())
    assert np.isnan(imputer.mean_[2]) and np.isnan(imputer.scale_[2])


def test_observed_entries_come_back_bit_identical():
    X, X_nan, missing = _related_table(80)
    X_nan[3, 0] = -0.0
    X_nan[4, 0] = 5e-324
    for categorical in (None, [2]):
        out = TabularRBMImputer(categorical_features=categorical, **FAST).fit_transform(X_nan)
        assert np.array_equal(out[~np.isnan(X_nan)].view(np.uint64),
                              X_nan[~np.isnan(X_nan)].view(np.uint64))
        assert not np.isnan(out).any()


@pytest.mark.parametrize("spec", [[2], [False, False, True], ["c"], "from_dtype"],
                         ids=["indices", "mask", "names", "from_dtype"])
def test_categorical_features_accepts_indices_mask_names_and_dtype(spec):
    X, X_nan, _ = _related_table(60)
    frame = pd.DataFrame(X_nan, columns=["a", "b", "c"])
    if spec == "from_dtype":
        frame["c"] = frame["c"].astype("category")
    imputer = TabularRBMImputer(categorical_features=spec, **FAST).fit(frame)
    assert imputer.is_categorical_.tolist() == [False, False, True]
    assert list(imputer.categories_[0]) == [-3.0, 7.0]
    assert imputer.components_.shape == (8, 2 + 2)


def test_default_from_dtype_on_a_numpy_array_means_no_categorical_column():
    _, X_nan, _ = _related_table(60)
    imputer = TabularRBMImputer(**FAST).fit(X_nan)
    assert not imputer.is_categorical_.any()
    assert imputer.categories_ == []


def test_pandas_categoricals_round_trip_with_pandas_output():
    rng = np.random.RandomState(0)
    n = 80
    frame = pd.DataFrame({
        "size": rng.normal(10, 3, size=n),
        "colour": pd.Categorical(rng.choice(["red", "green", "blue"], size=n),
                                 categories=["red", "green", "blue", "violet"]),
        "count": rng.randint(0, 5, size=n).astype(float),
    }, index=np.arange(100, 100 + n))
    frame.loc[frame.index[::4], "colour"] = np.nan
    frame.loc[frame.index[1::5], "size"] = np.nan
    imputer = TabularRBMImputer(**FAST).set_output(transform="pandas").fit(frame)
    assert imputer.is_categorical_.tolist() == [False, True, False]
    assert list(imputer.categories_[0]) == ["red", "green", "blue"]  # seen, dtype order
    out = imputer.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["size", "colour", "count"]
    assert out.index.equals(frame.index)
    assert out["colour"].dtype == frame["colour"].dtype  # same categories, violet too
    assert not out.isna().any().any()
    observed = frame["colour"].notna()
    assert (out["colour"][observed] == frame["colour"][observed]).all()
    assert set(out["colour"]) <= {"red", "green", "blue"}
    assert out["size"].dtype == np.float64
    np.testing.assert_array_equal(out["size"][frame["size"].notna()],
                                  frame["size"][frame["size"].notna()])


def test_string_categories_give_an_object_array_by_default():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0, 5.0, 6.0] * 5,
                          "y": ["a", "b", None, "a", pd.NA, "b"] * 5})
    imputer = TabularRBMImputer(categorical_features=["y"], **FAST)
    out = imputer.fit_transform(frame)
    assert out.dtype == object and out.shape == (30, 2)
    assert set(out[:, 1]) == {"a", "b"}
    assert all(isinstance(value, float) for value in out[:, 0])
    np.testing.assert_array_equal(out[[0, 1, 3], 0].astype(float), [1.0, 2.0, 4.0])
    assert list(out[[0, 1, 3], 1]) == ["a", "b", "a"]


def test_numeric_categories_in_a_dataframe_give_a_float_array():
    frame = pd.DataFrame({"x": np.arange(30.0), "code": [1, 2, None, 3, 2, 1] * 5},
                         dtype=object)
    out = TabularRBMImputer(categorical_features=[1], **FAST).fit_transform(frame)
    assert out.dtype == np.float64
    assert set(out[:, 1]) <= {1.0, 2.0, 3.0}


def test_unseen_category_and_unobserved_categorical_column_are_refused():
    frame = pd.DataFrame({"x": np.arange(12.0), "y": ["a", "b", "c"] * 4})
    imputer = TabularRBMImputer(categorical_features=["y"], **FAST).fit(frame)
    unseen = frame.copy()
    unseen.loc[2, "y"] = "zebra"
    with pytest.raises(ValueError, match=r"'y' holds categories not seen in fit: \['zebra'\]"):
        imputer.transform(unseen)
    empty = frame.assign(y=[None] * 12)
    with pytest.raises(ValueError, match="'y' has no observed value"):
        clone(imputer).fit(empty)


@pytest.mark.parametrize(("spec", "message"), [
    ([5], r"indices outside \[0, 2\]: \[5\]"),
    ([True, False], "one entry per feature"),
    (["nope"], r"does not have: \['nope'\]"),
    ([[0, 1]], "one-dimensional"),
    ([0.5], "must be None, 'from_dtype'"),
])
def test_bad_categorical_features_are_refused_clearly(spec, message):
    frame = pd.DataFrame(np.ones((5, 3)), columns=["a", "b", "c"])
    with pytest.raises(ValueError, match=message):
        TabularRBMImputer(categorical_features=spec, **FAST).fit(frame)


def test_feature_names_need_a_dataframe():
    with pytest.raises(ValueError, match="no feature names"):
        TabularRBMImputer(categorical_features=["a"], **FAST).fit(np.ones((5, 2)))


def test_infinity_and_feature_count_are_refused():
    _, X_nan, _ = _related_table(40)
    bad = X_nan.copy()
    bad[0, 2] = np.inf
    for categorical in (None, [2]):
        with pytest.raises(ValueError, match="infinity"):
            TabularRBMImputer(categorical_features=categorical, **FAST).fit(bad)
    fitted = TabularRBMImputer(categorical_features=[2], **FAST).fit(X_nan)
    with pytest.raises(ValueError, match="expecting 3 features"):
        fitted.transform(X_nan[:, :2])


def test_input_is_not_modified_and_pickle_keeps_the_output():
    frame = pd.DataFrame({"x": [1.0, np.nan, 3.0, 4.0] * 6,
                          "y": pd.Categorical(["u", "v", None, "u"] * 6)})
    before = frame.copy()
    imputer = TabularRBMImputer(**FAST).fit(frame)
    out = imputer.transform(frame)
    pd.testing.assert_frame_equal(frame, before)
    restored = pickle.loads(pickle.dumps(imputer))
    np.testing.assert_array_equal(restored.transform(frame), out)
    assert all(isinstance(value, np.ndarray) for value in vars(imputer).values()
               if hasattr(value, "dtype"))


def test_same_seed_same_output_other_seed_other_output():
    _, X_nan, _ = _related_table(60)
    first = TabularRBMImputer(**FAST).fit_transform(X_nan)
    np.testing.assert_array_equal(TabularRBMImputer(**FAST).fit_transform(X_nan), first)
    other = TabularRBMImputer(**{**FAST, "random_state": 1}).fit_transform(X_nan)
    assert not np.array_equal(other, first)


def test_mean_field_imputation_and_sample_fill_options_run():
    _, X_nan, _ = _related_table(60)
    for options in ({"imputation": "mean-field"}, {"training_fill": "mean-field"},
                    {"learn_variance": False}):
        out = TabularRBMImputer(categorical_features=[2], **FAST, **options).fit_transform(
            X_nan)
        assert np.isfinite(out).all()
        assert set(np.unique(out[:, 2])) <= {-3.0, 7.0}
    fixed = TabularRBMImputer(learn_variance=False, **FAST).fit(X_nan)
    np.testing.assert_array_equal(fixed.variance_, [1.0, 1.0, 1.0])


def test_early_stopping_scores_held_out_entries_and_keeps_the_best_epoch():
    _, X_nan, _ = _related_table(100)
    imputer = TabularRBMImputer(categorical_features=[2], early_stopping=True,
                                n_iter_no_change=2, tol=10.0, n_epochs=30,
                                **{k: v for k, v in FAST.items() if k != "n_epochs"})
    imputer.fit(X_nan)
    # tol=10 counts no epoch after the first as an improvement: 1 + 2 epochs.
    assert imputer.n_iter_ == 3
    assert len(imputer.validation_scores_) == 3
    assert imputer.best_validation_score_ == max(imputer.validation_scores_) < 0


def test_sample_imputations_shape_clamping_seed_and_categories():
    X, X_nan, missing = _related_table(60)
    imputer = TabularRBMImputer(categorical_features=[2], **FAST).fit(X_nan)
    draws = imputer.sample_imputations(X_nan, n_imputations=4, random_state=3)
    assert draws.shape == (4, 60, 3)
    observed = ~np.isnan(X_nan)
    for draw in draws:
        assert np.array_equal(draw[observed], X_nan[observed])
        assert set(np.unique(draw[:, 2])) <= {-3.0, 7.0}
    # Continuous draws: the same hole differs between imputations.
    holes = missing[:, 1]
    assert len(np.unique(draws[:, holes, 1])) == 4 * holes.sum()
    np.testing.assert_array_equal(imputer.sample_imputations(X_nan, 4, random_state=3),
                                  draws)
    assert not np.array_equal(imputer.sample_imputations(X_nan, 4, random_state=4), draws)
    for bad in (0, True, 2.0):
        with pytest.raises(ValueError, match="n_imputations must be a positive integer"):
            imputer.sample_imputations(X_nan, bad)


def test_sample_imputations_of_string_categories_are_an_object_array():
    frame = pd.DataFrame({"x": [1.0, 2.0, np.nan, 4.0] * 5,
                          "y": pd.Categorical(["a", None, "b", "a"] * 5)})
    imputer = TabularRBMImputer(**FAST).set_output(transform="pandas").fit(frame)
    draws = imputer.sample_imputations(frame, n_imputations=2, random_state=0)
    assert draws.shape == (2, 20, 2) and draws.dtype == object
    assert set(draws[:, :, 1].ravel()) <= {"a", "b"}


def test_average_fraction_averages_the_last_epochs_parameters():
    _, X_nan, _ = _related_table(40)
    settings = dict(FAST, categorical_features=[2], n_epochs=3, average_fraction=0.0)
    third = TabularRBMImputer(**settings).fit(X_nan)
    fourth = TabularRBMImputer(**{**settings, "n_epochs": 4}).fit(X_nan)
    averaged = TabularRBMImputer(**{**settings, "n_epochs": 4, "average_fraction": 0.5})
    averaged.fit(X_nan)
    for name in ("components_", "intercept_visible_", "intercept_hidden_"):
        expected = (getattr(third, name) + getattr(fourth, name)) / 2
        np.testing.assert_allclose(getattr(averaged, name), expected, rtol=1e-5,
                                   atol=1e-7)
    log_var = (np.log(third.variance_) + np.log(fourth.variance_)) / 2
    np.testing.assert_allclose(np.log(averaged.variance_), log_var, rtol=1e-5, atol=1e-6)
    assert not np.allclose(third.components_, fourth.components_)


# --------------------------------------------------------------- linear hidden units
def test_without_linear_units_the_fit_is_the_binary_models():
    # Imputations of this fit computed by the code before the linear hidden units
    # existed (commit 1ddcdb7, whose default learning rate was 1e-2):
    # n_linear_components=0 must reproduce them.
    rng = np.random.RandomState(3)
    X = rng.normal(size=(30, 3)) @ np.array([[1.0, 0.8, 0.0], [0.0, 0.6, 0.5],
                                             [0.0, 0.0, 1.0]])
    holes = rng.rand(30, 3) < 0.2
    X[holes] = np.nan
    imputer = TabularRBMImputer(n_components=4, n_linear_components=0, n_epochs=3,
                                learning_rate=1e-2, n_imputation_steps=3,
                                random_state=0).fit(X)
    chain = [-0.10330149990149827, -0.1518364088308607, -0.1517626523579385,
             -0.14110172898081808, -0.1023724147334104, -0.1635267180202099]
    mean_field = [-0.11806021299460628, -0.1478022634847468, -0.14745833566807107,
                  -0.11921775348583023, -0.11944659489523006, -0.14767879791595423]
    np.testing.assert_allclose(imputer.transform(X)[holes][:6], chain, rtol=1e-6)
    imputer.set_params(imputation="mean-field")
    np.testing.assert_allclose(imputer.transform(X)[holes][:6], mean_field, rtol=1e-6)
    assert imputer.linear_components_.shape == (0, 3)


def test_free_energy_integrates_the_linear_units_out():
    # F(v) = -log Σ_{h_b} ∫ exp(-E(v, h_b, h_g)) dh_g, by quadrature over one linear
    # unit; free_energy drops the constant log(2π)/2.
    layout, params, v = _model(n_numeric=2, n_categories=(2,), n_hidden=3, n_linear=1)
    grid = torch.linspace(-40.0, 40.0, 80001, dtype=torch.float64)
    step = float(grid[1] - grid[0])
    binary = torch.tensor(list(itertools.product([0.0, 1.0], repeat=2)),
                          dtype=torch.float64)
    states = torch.cat([binary.repeat_interleave(len(grid), 0),
                        grid.repeat(len(binary))[:, None]], dim=1)
    for row in v:
        energies = core.energy(row.expand(len(states), -1), states, params, layout)
        expected = -(torch.logsumexp(-energies, dim=0) + np.log(step))
        actual = core.free_energy(row[None], params, layout)[0] - 0.5 * np.log(2 * np.pi)
        assert float(actual) == pytest.approx(float(expected), rel=1e-9, abs=1e-9)


def test_linear_units_are_gaussian_given_the_visible_units():
    layout, params, v = _model(n_hidden=5, n_linear=2)
    b, W, c, log_var = _numpy_params(params)
    x = v.numpy()
    scale = np.concatenate([np.exp(-log_var), np.ones(layout.n_visible - 3)])
    total = x * scale @ W + c
    means = core.hidden_means(v, params, layout).numpy()
    np.testing.assert_allclose(means[:, :3], 1 / (1 + np.exp(-total[:, :3])), rtol=1e-12)
    np.testing.assert_allclose(means[:, 3:], total[:, 3:], rtol=1e-12)
    g = torch.Generator().manual_seed(0)
    draws = core.sample_hidden(v[:1].expand(20000, -1), params, layout, g).numpy()
    np.testing.assert_allclose(draws[:, 3:].mean(0), total[0, 3:], atol=0.03)
    np.testing.assert_allclose(draws[:, 3:].std(0), 1.0, rtol=0.03)
    assert set(np.unique(draws[:, :3])) <= {0.0, 1.0}


def test_projection_keeps_the_real_values_precision_positive_definite():
    layout, params, _ = _model(n_hidden=5, n_linear=3)
    params.weights[:, 2:] *= 50.0  # far outside the normalisable set
    core.project_linear_block(params, layout)
    assert core.linear_block_norm(params, layout) == pytest.approx(core.MAX_LINEAR_NORM)
    var = torch.exp(params.log_var)
    block = params.weights[:3, 2:]
    precision = torch.diag(1 / var) - (block / var[:, None]) @ (block / var[:, None]).T
    assert float(torch.linalg.eigvalsh(precision).min()) > 0
    binary = params.weights[:, :2].clone()
    core.project_linear_block(params, layout)  # inside the set: unchanged
    assert core.linear_block_norm(params, layout) == pytest.approx(core.MAX_LINEAR_NORM)
    torch.testing.assert_close(params.weights[:, :2], binary)


def _collinear_table(n=200, seed=0):
    rng = np.random.RandomState(seed)
    z = rng.normal(size=(n, 2))
    X = np.column_stack([z[:, 0], z[:, 1], z[:, 0] + z[:, 1], z[:, 0] - 0.5 * z[:, 1]])
    X = X * [1.0, 3.0, 10.0, 0.1] + 0.05 * rng.normal(size=(n, 4))
    missing = rng.rand(n, 4) < 0.25
    return X, np.where(missing, np.nan, X), missing


def test_linear_units_stay_normalisable_and_impute_linear_relations():
    X, X_nan, missing = _collinear_table()
    settings = dict(n_components=2, n_epochs=40, n_imputation_steps=50, random_state=0)
    linear = TabularRBMImputer(n_linear_components=2, **settings).fit(X_nan)
    block = linear.linear_components_[:, :4].T / np.sqrt(linear.variance_)[:, None]
    norm = np.linalg.norm(block, 2)
    assert 0.9 < norm <= core.MAX_LINEAR_NORM + 1e-5  # the bound was reached and held
    binary = TabularRBMImputer(n_linear_components=0, **settings).fit(X_nan)
    mean = np.nanmean(X_nan, 0)

    def relative_error(out):
        return np.sqrt(np.mean(((out - X) / X.std(0))[missing] ** 2)) / np.sqrt(
            np.mean(((mean - X) / X.std(0))[missing] ** 2))

    errors = {mode: relative_error(linear.set_params(imputation=mode).transform(X_nan))
              for mode in ("chain-average", "mean-field")}
    # Two binary units see no linear relation (about 1); two linear units do (about .6).
    assert max(errors.values()) < 0.75
    assert errors["chain-average"] < 0.8 * relative_error(binary.transform(X_nan))
    draws = linear.sample_imputations(X_nan, n_imputations=3, random_state=0)
    assert np.isfinite(draws).all()
    np.testing.assert_array_equal(draws[:, ~missing], np.broadcast_to(X[~missing],
                                                                      (3, (~missing).sum())))


def test_linear_units_with_categorical_columns_and_attributes():
    _, X_nan, _ = _related_table(60)
    imputer = TabularRBMImputer(categorical_features=[2], n_linear_components=3,
                                **FAST).fit(X_nan)
    assert imputer.components_.shape == (8, 4)
    assert imputer.linear_components_.shape == (3, 4)
    assert imputer.intercept_hidden_.shape == (8,)
    out = imputer.transform(X_nan)
    assert not np.isnan(out).any() and set(np.unique(out[:, 2])) <= {-3.0, 7.0}


@pytest.mark.parametrize("name, value", [("n_linear_components", -1),
                                         ("n_linear_components", 1.5),
                                         ("n_linear_components", "4"),
                                         ("n_linear_components", "full"),
                                         ("linear_init", "pca"), ("linear_init", None)])
def test_bad_linear_unit_settings_are_refused(name, value):
    with pytest.raises(ValueError, match=name):
        TabularRBMImputer(**{name: value}).fit(np.ones((5, 2)))


def test_auto_linear_units_start_at_the_tables_gaussian():
    rng = np.random.RandomState(0)
    z = rng.normal(size=(300, 2))
    X = np.column_stack([z[:, 0], z[:, 1], z[:, 0] + 0.5 * z[:, 1], z[:, 1] - z[:, 0]])
    X += 0.3 * rng.normal(size=X.shape)
    X_nan = np.where(rng.rand(*X.shape) < 0.2, np.nan, X)
    frame = pd.DataFrame(X_nan, columns=list("pqrs"))
    frame["kind"] = pd.Categorical(rng.choice(["a", "b"], size=300))
    untrained = TabularRBMImputer(n_components=2, n_epochs=0, random_state=0).fit(frame)
    assert untrained.linear_components_.shape == (4, 4 + 2)  # one per real-valued column
    # Zero epochs: the model is the start; its real values' Gaussian factor is the EM
    # fit's (the binary units' weights are small), in standardised units.
    var = untrained.variance_
    block = untrained.linear_components_[:, :4].T
    precision = np.diag(1 / var) - (block / var[:, None]) @ (block / var[:, None]).T
    standardised = (X_nan - untrained.mean_[:4]) / untrained.scale_[:4]
    mean, covariance = core.fit_gaussian_em(
        torch.as_tensor(np.nan_to_num(standardised)), torch.as_tensor(np.isnan(X_nan)), 50,
        1.01 * 0.05)
    np.testing.assert_allclose(np.linalg.inv(precision), covariance.numpy(), rtol=1e-4,
                               atol=1e-4)
    np.testing.assert_allclose(untrained.intercept_visible_[:4], mean.numpy(), atol=1e-6)
    random = TabularRBMImputer(n_components=2, n_epochs=0, linear_init="random",
                               random_state=0).fit(frame)
    np.testing.assert_array_equal(random.variance_, 1.0)
    assert np.abs(random.linear_components_).max() < 0.1


def _joint_gaussian_conditional(v, missing, h, params, layout):
    """Per row, the mean and covariance of the missing real values given the observed
    ones, the categories and the binary units, from the joint Gaussian of (real values,
    linear units) read off the energy (NumPy, float64)."""
    b, W, _, log_var = _numpy_params(params)
    n, n_binary = layout.n_numeric, params.n_binary
    inv_var = np.exp(-log_var)
    W_rb, W_rl, W_cl = W[:n, :n_binary], W[:n, n_binary:], W[n:, n_binary:]
    n_linear = W_rl.shape[1]
    joint_precision = np.block([[np.diag(inv_var), -inv_var[:, None] * W_rl],
                                [-(inv_var[:, None] * W_rl).T, np.eye(n_linear)]])
    covariance = np.linalg.inv(joint_precision)[:n, :n]
    results = []
    for row in range(v.shape[0]):
        linear_term = np.concatenate([inv_var * (b[:n] + W_rb @ h[row, :n_binary]),
                                      W_cl.T @ v[row, n:]])
        mean = (np.linalg.inv(joint_precision) @ linear_term)[:n]
        m, o = missing[row], ~missing[row]
        gain = covariance[np.ix_(m, o)] @ np.linalg.inv(covariance[np.ix_(o, o)])
        results.append((mean[m] + gain @ (v[row, :n][o] - mean[o]),
                        covariance[np.ix_(m, m)] - gain @ covariance[np.ix_(o, m)]))
    return results


def test_integrated_numeric_step_draws_from_the_joint_gaussians_conditional():
    layout, params, v = _model(n_numeric=4, n_categories=(2, 3), n_hidden=5, n_linear=2)
    missing = torch.tensor([[True, False, True, False], [False, True, True, True],
                            [True, True, True, True], [False, False, False, True],
                            [False, False, False, False]])
    g = torch.Generator().manual_seed(1)
    h = torch.bernoulli(torch.full((5, 5), 0.5, dtype=torch.float64), generator=g)
    expected = _joint_gaussian_conditional(v.numpy(), missing.numpy(), h.numpy(), params,
                                           layout)
    draw, mean = core.integrated_numeric_step(v, missing, h, params, layout, g)
    np.testing.assert_array_equal(draw.numpy()[~missing.numpy()],
                                  v[:, :4].numpy()[~missing.numpy()])
    np.testing.assert_array_equal(mean.numpy()[~missing.numpy()],
                                  v[:, :4].numpy()[~missing.numpy()])
    n_draws = 40000
    repeated = v.repeat(n_draws, 1)
    draws, _ = core.integrated_numeric_step(repeated, missing.repeat(n_draws, 1),
                                            h.repeat(n_draws, 1), params, layout, g)
    draws = draws.numpy().reshape(n_draws, 5, 4)
    for row, (m_expected, cov_expected) in enumerate(expected):
        m = missing[row].numpy()
        np.testing.assert_allclose(mean[row].numpy()[m], m_expected, rtol=1e-9, atol=1e-9)
        if m.any():
            sample = draws[:, row][:, m]
            np.testing.assert_allclose(sample.mean(0), m_expected,
                                       atol=4 * np.sqrt(np.diag(cov_expected).max() / n_draws))
            np.testing.assert_allclose(np.cov(sample.T).reshape(cov_expected.shape),
                                       cov_expected, atol=0.03 * np.abs(cov_expected).max())
    # Every real value redrawn: the joint Gaussian given h_B and the categories.
    everything = torch.ones_like(missing)
    expected_all = _joint_gaussian_conditional(v.numpy(), everything.numpy(), h.numpy(),
                                               params, layout)
    _, mean_all = core.integrated_numeric_step(v, None, h, params, layout, g)
    np.testing.assert_allclose(mean_all.numpy(), np.stack([m for m, _ in expected_all]),
                               rtol=1e-9, atol=1e-9)


def test_integrated_and_plain_gibbs_chains_share_their_stationary_distribution():
    layout, params, v = _model(n_numeric=3, n_categories=(2,), n_hidden=4, n_linear=2)
    params.weights[:3, 2:] *= 3.0  # strong correlations, where the plain sweep is slow
    core.project_linear_block(params, layout)
    missing = torch.zeros(v.shape, dtype=torch.bool)
    missing[:, [0, 3, 4]] = True  # a real value and the categorical block
    n_chains = 4000
    start = v[:1].repeat(n_chains, 1)
    chain_missing = missing[:1].repeat(n_chains, 1)
    averages = {}
    for integrate in (False, True):
        g = torch.Generator().manual_seed(0)
        averages[integrate] = core.impute_chain_average(
            start.clone(), chain_missing, params, layout, 200, 200, g,
            integrate_linear=integrate).mean(0)[[0, 3, 4]]
    np.testing.assert_allclose(averages[True].numpy(), averages[False].numpy(), atol=0.02)
    draws = core.clamped_draws(start.clone(), chain_missing, params, layout, 2, 30, 5,
                               torch.Generator().manual_seed(0), integrate_linear=True)
    np.testing.assert_array_equal(draws[:, ~chain_missing], start[~chain_missing].expand(2, -1))


def _numpy_gaussian_em(X, missing, n_iter, min_eigenvalue):
    """EM for a Gaussian on incomplete rows, one row at a time (the reference)."""
    mean = np.nanmean(np.where(missing, np.nan, X), 0)
    filled = np.where(missing, mean, X)
    covariance = np.cov(filled.T, bias=True)

    def floored(c):
        values, vectors = np.linalg.eigh(c)
        return (vectors * np.maximum(values, min_eigenvalue)) @ vectors.T

    covariance = floored(covariance)
    for _ in range(n_iter):
        completed, extra = filled.copy(), np.zeros_like(covariance)
        for i in range(len(X)):
            m, o = missing[i], ~missing[i]
            if not m.any():
                continue
            gain = covariance[np.ix_(m, o)] @ np.linalg.inv(covariance[np.ix_(o, o)])
            completed[i, m] = mean[m] + gain @ (X[i, o] - mean[o])
            extra[np.ix_(m, m)] += covariance[np.ix_(m, m)] - gain @ covariance[np.ix_(o, m)]
        filled = completed
        mean = filled.mean(0)
        covariance = floored(((filled - mean).T @ (filled - mean) + extra) / len(X))
    return mean, covariance


@pytest.mark.parametrize("chunk_entries", [None, 16 * 7])
def test_gaussian_em_matches_a_row_by_row_numpy_em(chunk_entries, monkeypatch):
    if chunk_entries:  # the E step in chunks of 7 rows
        monkeypatch.setattr(core, "ROW_CHUNK_ENTRIES", chunk_entries)
    rng = np.random.RandomState(0)
    factor = rng.normal(size=(4, 4))
    X = rng.multivariate_normal([0.5, -1.0, 0.0, 2.0], factor @ factor.T + 0.1 * np.eye(4),
                                size=300)
    missing = rng.rand(*X.shape) < 0.3
    missing[0] = True  # a row with nothing observed
    mean, covariance = core.fit_gaussian_em(torch.as_tensor(np.where(missing, 0.0, X)),
                                            torch.as_tensor(missing), n_iter=5,
                                            min_eigenvalue=0.2)
    expected_mean, expected_covariance = _numpy_gaussian_em(X, missing, 5, 0.2)
    np.testing.assert_allclose(mean.numpy(), expected_mean, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(covariance.numpy(), expected_covariance, rtol=1e-9, atol=1e-9)
    assert float(torch.linalg.eigvalsh(covariance).min()) >= 0.2 - 1e-9
    # Complete rows: one M step is the sample mean and covariance.
    mean, covariance = core.fit_gaussian_em(torch.as_tensor(X),
                                            torch.zeros(X.shape, dtype=torch.bool), 3, 0.0)
    np.testing.assert_allclose(mean.numpy(), X.mean(0), rtol=1e-10)
    np.testing.assert_allclose(covariance.numpy(), np.cov(X.T, bias=True), rtol=1e-9)


@pytest.mark.parametrize("n_linear, variance", [(4, None), (6, None), (2, None), (4, 1.0)])
def test_linear_block_from_gaussian_gives_the_gaussian_factor(n_linear, variance):
    rng = np.random.RandomState(1)
    factor = rng.normal(size=(4, 4))
    covariance = torch.as_tensor(factor @ factor.T + 0.5 * np.eye(4))
    mean = torch.as_tensor(rng.normal(size=4))
    bias, log_var, block = core.linear_block_from_gaussian(mean, covariance, n_linear,
                                                           max_norm=1.0 - 1e-9,
                                                           variance=variance)
    assert block.shape == (4, n_linear)
    np.testing.assert_array_equal(bias.numpy(), mean.numpy())
    var = np.exp(log_var.numpy())
    precision = np.diag(1 / var) - (block.numpy() / var[:, None]) @ (block.numpy() / var[:, None]).T
    model_covariance = np.linalg.inv(precision)
    values, vectors = np.linalg.eigh(covariance.numpy())
    kept = min(n_linear, 4)
    t = values[0] if variance is None else variance
    # The leading directions keep their variance, the others (and any below t) get t.
    expected_values = np.where(np.arange(4) >= 4 - kept, np.maximum(values, t), t)
    np.testing.assert_allclose(model_covariance, (vectors * expected_values) @ vectors.T,
                               rtol=1e-8, atol=1e-8)
    # A covariance more stretched than the bound allows: the block is capped at it.
    stretched = covariance * torch.tensor([1.0, 1.0, 1.0, 1e4]).diag()
    _, log_var, capped = core.linear_block_from_gaussian(mean, stretched, 4)
    scaled = capped.numpy() / np.sqrt(np.exp(log_var.numpy()))[:, None]
    assert np.linalg.norm(scaled, 2) == pytest.approx(core.MAX_LINEAR_NORM, rel=1e-9)


def test_transform_and_draws_in_row_chunks_keep_their_guarantees(monkeypatch):
    X, X_nan, missing = _collinear_table(n=60)
    imputer = TabularRBMImputer(**FAST).fit(X_nan)
    whole = imputer.transform(X_nan)
    monkeypatch.setattr(core, "ROW_CHUNK_ENTRIES", 16 * 7)  # chunks of 7 rows
    assert len(core.row_chunks(len(X), 4)) == 9
    chunked = imputer.transform(X_nan)
    draws = imputer.sample_imputations(X_nan, n_imputations=2, random_state=0)
    for out in (chunked, *draws):
        np.testing.assert_array_equal(out[~missing], X[~missing])
        assert np.isfinite(out).all()
    np.testing.assert_array_equal(chunked, imputer.transform(X_nan))  # deterministic
    # Chunks change only the chain's draws: the estimates agree to chain noise.
    assert np.abs(chunked - whole)[missing].mean() < 0.1 * X.std(0).mean()
