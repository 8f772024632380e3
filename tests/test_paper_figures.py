"""The foundation's figures on the real MNIST test digits (spec section 6)."""

import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from skrbm_impute import DiffusionInpaintImputer, MeanImputer, apply_mask, independent_mask
from skrbm_impute.metrics import rmse


@pytest.mark.parametrize("rate, paper_ratio", [(0.3, 0.49), (0.6, 0.60), (0.9, 0.87)])
def test_diffusion_over_mean_rmse_matches_paper(mnist_test, rate, paper_ratio):
    X, _ = mnist_test
    train, test = X[:5000], X[5000:]
    train_mask = independent_mask(5000, (28, 28), rate=rate, random_state=1)
    test_mask = independent_mask(5000, (28, 28), rate=rate, random_state=2)
    X_test = apply_mask(test, test_mask)
    mean = MeanImputer().fit(apply_mask(train, train_mask)).transform(X_test)
    diffused = DiffusionInpaintImputer().fit(X_test).transform(X_test)
    ratio = rmse(test, diffused, test_mask) / rmse(test, mean, test_mask)
    assert abs(ratio - paper_ratio) <= 0.03, ratio


def test_diffusion_in_grid_search_pipeline(mnist_test):
    X, y = mnist_test
    X, y = X[:600], y[:600]
    X_missing = apply_mask(X, independent_mask(len(X), (28, 28), rate=0.6, random_state=0))
    pipe = Pipeline([("impute", DiffusionInpaintImputer()),
                     ("clf", LogisticRegression(max_iter=200))])
    grid = GridSearchCV(pipe, {"impute__n_iter": [0, 50]}, cv=3, error_score="raise")
    grid.fit(X_missing, y)
    scores = grid.cv_results_["mean_test_score"]
    assert grid.best_params_ == {"impute__n_iter": 50}, scores
    assert scores[1] > 0.7
