"""
An imputer in a Pipeline, tuned by GridSearchCV with the package scorers
========================================================================

Incomplete digits (no ground truth) are imputed by diffusion inpainting; the search
scores each candidate by hiding 10 % of the *observed* pixels and measuring the RMSE
of their imputation (MaskedRMSEScorer), and reports the FID of the imputed images to
a clean reference set (FIDScorer) and the downstream accuracy of a logistic
regression after the imputer.

Not run when the documentation is built (about a minute)::

    python examples/pipeline_gridsearch.py

Swap in ``LMRBMImputer(n_components=256, n_epochs=10)`` and a grid over
``imputer__learning_rate`` to tune the paper's model the same way.
"""

from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from skrbm_impute import DiffusionInpaintImputer, apply_mask, make_mask
from skrbm_impute.datasets import load_mnist_sample
from skrbm_impute.metrics import FIDScorer, MaskedRMSEScorer

X, y = load_mnist_sample()  # sorted by class: split with shuffling and stratification
X_train, X_reference, y_train, _ = train_test_split(
    X, y, train_size=1500, test_size=1000, stratify=y, random_state=0)
X_missing = apply_mask(X_train, make_mask("PM", len(X_train), (28, 28), 0.3, random_state=0))

pipeline = Pipeline([
    ("imputer", DiffusionInpaintImputer()),
    ("classifier", LogisticRegression(max_iter=200)),
])
search = GridSearchCV(
    pipeline,
    {"imputer__kernel": [1, 2], "imputer__n_iter": [20, 200], "imputer__init": [0.0, "image-mean"]},
    scoring={
        "masked_rmse": MaskedRMSEScorer(fraction=0.1, random_state=0),
        "fid": FIDScorer(X_reference),
        "accuracy": "accuracy",
    },
    refit="masked_rmse",
    cv=3,
)
search.fit(X_missing, y_train)

print("best (lowest masked RMSE):", search.best_params_)
results = search.cv_results_
for i, params in enumerate(results["params"]):
    print(f"{params}: masked RMSE {-results['mean_test_masked_rmse'][i]:.4f}, "
          f"FID {-results['mean_test_fid'][i]:.2f}, "
          f"accuracy {results['mean_test_accuracy'][i]:.3f}")
