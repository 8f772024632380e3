"""
Imputing an ordinary table with TabularRBMImputer
=================================================

:class:`~skrbm_impute.TabularRBMImputer` fills the holes of a table in its own units:
Gaussian visible units for the real-valued columns, softmax units for categorical ones
(``categorical_features``), columns standardised internally.  This example

* puts it in a ``Pipeline`` before a classifier and lets ``GridSearchCV`` choose its
  number of hidden units with :class:`~skrbm_impute.metrics.MaskedRMSEScorer`, which
  hides 10 % of the *observed* entries and scores their imputation (no complete data
  needed);
* compares it with scikit-learn's ``SimpleImputer`` and ``KNNImputer`` on three of
  scikit-learn's bundled tables with 30 % of the cells missing completely at random.

The scorer measures the RMSE in the imputer's input space.  On raw units that RMSE is
dominated by the columns with the largest spread (breast_cancer's areas are in the
hundreds, its smoothness below 0.2), so a ``StandardScaler`` (which passes NaN through)
goes first: the scorer then weighs every column alike.  The imputer itself needs no
scaler.  The RBMs here train for fewer epochs than the default (100) so that the example
runs in seconds; the user guide's "Tables" page has the full benchmark.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from sklearn.impute import KNNImputer, SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skrbm_impute import TabularRBMImputer
from skrbm_impute.metrics import MaskedRMSEScorer


def hide_completely_at_random(X, rate, seed):
    """A copy of X with ``rate`` of its cells set to NaN, and the mask of those cells."""
    mask = np.random.default_rng(seed).random(X.shape) < rate
    X_missing = X.copy()
    X_missing[mask] = np.nan
    return X_missing, mask


X, y = load_breast_cancer(return_X_y=True)
X_missing, _ = hide_completely_at_random(X, 0.3, seed=0)

pipeline = Pipeline([
    ("scale", StandardScaler()),
    ("impute", TabularRBMImputer(n_epochs=30, random_state=0)),
    ("classify", LogisticRegression(max_iter=1000)),
])
search = GridSearchCV(
    pipeline,
    {"impute__n_components": [8, 64]},
    scoring={"masked_rmse": MaskedRMSEScorer(fraction=0.1, random_state=0),
             "accuracy": "accuracy"},
    refit="masked_rmse",
    cv=3,
)
search.fit(X_missing, y)

# %%
# The scorer returns minus the RMSE (greater is better for ``GridSearchCV``); printed
# here as the RMSE of the hidden entries in standardised units, with the downstream
# accuracy of the logistic regression on the held-out folds.
results = search.cv_results_
for params, rmse, accuracy in zip(results["params"], -results["mean_test_masked_rmse"],
                                  results["mean_test_accuracy"]):
    print(f"n_components={params['impute__n_components']:>3}: masked RMSE {rmse:.3f}, "
          f"accuracy {accuracy:.3f}")
print("chosen:", search.best_params_)

# %%
# Three bundled tables, 30 % MCAR, columns standardised on the complete table so that the
# errors of different tables are comparable; each imputer fills the whole incomplete
# table and is scored on its holes, as a ratio to mean imputation's RMSE (below 1 is
# better than the column means).
tables = {
    "breast_cancer": load_breast_cancer(return_X_y=True)[0],
    "wine": load_wine(return_X_y=True)[0],
    "diabetes": load_diabetes(return_X_y=True)[0],
}
imputers = {
    "SimpleImputer": lambda: SimpleImputer(strategy="mean"),
    "KNNImputer(5)": lambda: KNNImputer(n_neighbors=5),
    "TabularRBMImputer": lambda: TabularRBMImputer(n_epochs=80, random_state=0),
}
ratios = {name: [] for name in imputers}
for table, values in tables.items():
    Z = (values - values.mean(axis=0)) / values.std(axis=0)
    Z_missing, mask = hide_completely_at_random(Z, 0.3, seed=1)
    errors = {name: np.sqrt(np.mean((make().fit_transform(Z_missing)[mask] - Z[mask]) ** 2))
              for name, make in imputers.items()}
    for name in imputers:
        ratios[name].append(float(errors[name] / errors["SimpleImputer"]))
    print(f"{table:<14}", "  ".join(f"{name} {ratios[name][-1]:.3f}" for name in imputers))

fig, ax = plt.subplots(figsize=(6.4, 3.2))
width = 0.27
positions = np.arange(len(tables))
for i, name in enumerate(imputers):
    bars = ax.bar(positions + (i - 1) * width, ratios[name], width, label=name)
    ax.bar_label(bars, fmt="%.2f", fontsize=7, padding=1)
ax.axhline(1.0, color="grey", lw=0.8, ls="--")
ax.set_xticks(positions, list(tables))
ax.set_ylabel("RMSE / mean imputation")
ax.set_ylim(0, 1.15)
ax.legend(fontsize=8, loc="lower right")
ax.set_title("30 % of the cells missing completely at random", fontsize=9)
fig.tight_layout()
plt.show()
