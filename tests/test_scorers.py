"""The masked-RMSE and FID scorers in GridSearchCV / cross_validate and Pipelines."""

import numpy as np
import pytest
from sklearn.decomposition import PCA
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, StandardScaler

from skrbm_impute import DiffusionInpaintImputer, MeanImputer, apply_mask, independent_mask
from skrbm_impute.datasets import load_digits_01, load_mnist_sample
from skrbm_impute.metrics import FIDScorer, MaskedRMSEScorer, feature_statistics, fid, rmse


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits_01()
    X, y = X[:600], y[:600]
    mask = independent_mask(len(X), (8, 8), rate=0.3, random_state=0)
    return X, apply_mask(X, mask), y


def test_hide_takes_a_fixed_count_of_observed_entries_reproducibly(digits):
    _, X_missing, _ = digits
    scorer = MaskedRMSEScorer(fraction=0.2, random_state=3)
    X_hidden, hidden = scorer.hide(X_missing)
    n_observed = (~np.isnan(X_missing)).sum()
    assert hidden.sum() == round(0.2 * n_observed)
    assert not np.isnan(X_missing[hidden]).any()  # only observed entries are hidden
    np.testing.assert_array_equal(np.isnan(X_hidden), np.isnan(X_missing) | hidden)
    np.testing.assert_array_equal(scorer.hide(X_missing)[1], hidden)
    assert (MaskedRMSEScorer(fraction=0.2, random_state=4).hide(X_missing)[1] != hidden).any()


def test_masked_rmse_score_is_minus_rmse_on_hidden_entries(digits):
    X, X_missing, _ = digits
    imputer = MeanImputer().fit(X_missing)
    scorer = MaskedRMSEScorer(fraction=0.25, random_state=0)
    X_hidden, hidden = scorer.hide(X_missing)
    expected = rmse(X_missing, imputer.transform(X_hidden), hidden)
    assert scorer(imputer, X_missing) == pytest.approx(-expected)
    pooled = MaskedRMSEScorer(fraction=0.25, random_state=0, pooled=True)
    assert pooled(imputer, X_missing) == pytest.approx(
        -rmse(X_missing, imputer.transform(X_hidden), hidden, pooled=True))


def test_masked_rmse_scorer_requires_a_hidden_entry():
    X = np.full((2, 4), np.nan)
    X[0, 0] = 0.5
    imputer = MeanImputer().fit(np.array([[0.5, 0.5, 0.5, 0.5]]))
    with pytest.raises(ValueError, match="hides no entry"):
        MaskedRMSEScorer(fraction=0.1)(imputer, X)
    with pytest.raises(ValueError, match="fraction must be in"):
        MaskedRMSEScorer(fraction=1.5)(imputer, X)


def test_grid_search_single_metric_ranks_more_diffusion_first(digits):
    _, X_missing, _ = digits
    search = GridSearchCV(DiffusionInpaintImputer(), {"n_iter": [0, 2, 50]},
                          scoring=MaskedRMSEScorer(), cv=3, error_score="raise")
    search.fit(X_missing)
    scores = search.cv_results_["mean_test_score"]
    assert np.all(np.isfinite(scores)) and np.all(scores < 0)
    assert search.best_params_ == {"n_iter": 50}
    assert scores[0] < scores[1] < scores[2]


def test_multi_metric_search_inside_a_pipeline(digits):
    X, X_missing, y = digits
    reference = X[300:]
    scoring = {
        "rmse": MaskedRMSEScorer(),
        "fid": FIDScorer(reference, features=PCA(n_components=5, random_state=0).fit(reference)),
        "accuracy": "accuracy",
    }
    pipeline = Pipeline([("imputer", DiffusionInpaintImputer()),
                         ("clf", LogisticRegression(max_iter=300))])
    search = GridSearchCV(pipeline, {"imputer__n_iter": [0, 50]}, scoring=scoring,
                          refit="rmse", cv=2, error_score="raise")
    search.fit(X_missing[:300], y[:300])
    results = search.cv_results_
    for name in scoring:
        assert np.all(np.isfinite(results[f"mean_test_{name}"]))
    assert np.all(results["mean_test_fid"] <= 0)
    assert results["mean_test_accuracy"].min() > 0.7
    assert search.best_params_ == {"imputer__n_iter": 50}


def test_scorers_find_the_imputer_after_preprocessing(digits):
    _, X_missing, y = digits
    pipeline = Pipeline([("scale", FunctionTransformer(lambda X: 2 * X)),
                         ("imputer", SimpleImputer()),
                         ("clf", LogisticRegression(max_iter=300))]).fit(X_missing, y)
    scorer = MaskedRMSEScorer(random_state=1)
    X_hidden, hidden = scorer.hide(X_missing)
    imputer = SimpleImputer().fit(2 * X_missing)
    expected = rmse(2 * X_missing, imputer.transform(2 * X_hidden), hidden)
    assert scorer(pipeline, X_missing, y) == pytest.approx(-expected)
    assert MaskedRMSEScorer(random_state=1, step="imputer")(pipeline, X_missing) == pytest.approx(
        -expected)
    assert MaskedRMSEScorer(random_state=1, step=1)(pipeline, X_missing) == pytest.approx(
        -expected)


def test_scorer_step_errors(digits):
    _, X_missing, y = digits
    no_imputer = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    with pytest.raises(ValueError, match="No step of the Pipeline"):
        MaskedRMSEScorer()(no_imputer, X_missing)
    imputer = MeanImputer().fit(X_missing)
    with pytest.raises(ValueError, match="not a Pipeline"):
        MaskedRMSEScorer(step="imputer")(imputer, X_missing)
    pipeline = Pipeline([("imputer", MeanImputer())]).fit(X_missing)
    with pytest.raises(ValueError, match="is not a step"):
        MaskedRMSEScorer(step="imp")(pipeline, X_missing)


def test_fid_scorer_with_bundled_lenet_in_cross_validate():
    X, _ = load_mnist_sample()  # sorted by class: take every 10th digit
    X_train, X_reference = X[0::10][:400], X[5::10][:400]
    X_missing = apply_mask(X_train, independent_mask(400, rate=0.6, random_state=0))
    scorer = FIDScorer(X_reference)
    results = cross_validate(DiffusionInpaintImputer(n_iter=50), X_missing, cv=2,
                             scoring={"fid": scorer, "rmse": MaskedRMSEScorer()},
                             error_score="raise")
    assert np.all(results["test_fid"] < 0) and np.all(np.isfinite(results["test_rmse"]))
    imputer = DiffusionInpaintImputer(n_iter=50).fit(X_missing)
    expected = fid(X_reference, imputer.transform(X_missing[200:]))
    assert scorer(imputer, X_missing[200:]) == pytest.approx(-expected, rel=1e-6)
    # precomputed statistics give the same scorer
    same = FIDScorer(feature_statistics(X_reference))
    assert same(imputer, X_missing[200:]) == pytest.approx(-expected, rel=1e-6)
    # worse imputation, worse FID score
    assert FIDScorer(X_reference)(DiffusionInpaintImputer(n_iter=0).fit(X_missing),
                                  X_missing[200:]) < -expected


def test_scorers_pickle_for_parallel_search(digits):
    import pickle

    X, X_missing, _ = digits
    imputer = DiffusionInpaintImputer(n_iter=20).fit(X_missing)
    for scorer in (MaskedRMSEScorer(fraction=0.3, random_state=2),
                   FIDScorer(X, features=PCA(n_components=3, random_state=0).fit(X))):
        copy = pickle.loads(pickle.dumps(scorer))
        assert copy(imputer, X_missing) == pytest.approx(scorer(imputer, X_missing), rel=1e-9)


@pytest.mark.filterwarnings("error::UserWarning")
def test_masked_rmse_scorer_keeps_dataframe_feature_names(digits):
    pd = pytest.importorskip("pandas")
    _, X_missing, _ = digits
    frame = pd.DataFrame(X_missing, columns=[f"pixel{i}" for i in range(64)])
    pipeline = Pipeline([("scale", StandardScaler()), ("imputer", DiffusionInpaintImputer())])
    search = GridSearchCV(pipeline, {"imputer__n_iter": [0, 50]}, scoring=MaskedRMSEScorer(),
                          cv=2, error_score="raise").fit(frame)
    assert search.best_params_ == {"imputer__n_iter": 50}
    with pytest.warns(UserWarning, match="feature names"):  # arrays lack the names
        array_score = MaskedRMSEScorer()(search.best_estimator_, X_missing)
    assert MaskedRMSEScorer()(search.best_estimator_, frame) == pytest.approx(array_score)
