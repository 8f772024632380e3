"""
An imputer in a Pipeline, tuned by GridSearchCV with the package scorers
========================================================================

Incomplete digits (no ground truth anywhere) go through
``Pipeline([("imputer", ...), ("classifier", LogisticRegression())])`` and
``GridSearchCV`` chooses the imputer and its parameters.  Each candidate is scored three
ways on the held-out fold:

* ``MaskedRMSEScorer`` hides 10 % of the *observed* pixels and measures the RMSE of
  their imputation (distortion; needs no complete image),
* ``FIDScorer`` measures the Fréchet distance of the imputed digits to a clean
  reference set (perception),
* ``"accuracy"`` is the downstream accuracy of the logistic regression after the
  imputer.

The search refits the candidate with the lowest masked RMSE.  This example uses
scikit-learn's 8x8 digits and a 10-epoch RBM so that it runs in seconds; the FID's
features are 20 principal components of the reference digits (the bundled MNIST LeNet
needs 28x28 images).  On MNIST, use ``FIDScorer(X_reference)`` (the LeNet) and larger
RBMs (``LMRBMImputer(n_components=256, n_epochs=20)``).
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import Pipeline

from skrbm_impute import (
    DiffusionInpaintImputer,
    LMRBMImputer,
    MeanImputer,
    apply_mask,
    make_mask,
)
from skrbm_impute.datasets import load_digits_01
from skrbm_impute.metrics import FIDScorer, MaskedRMSEScorer

X, y = load_digits_01()
X_train, X_reference, y_train, _ = train_test_split(
    X, y, train_size=900, test_size=600, stratify=y, random_state=0)
X_missing = apply_mask(X_train, make_mask("IM", len(X_train), (8, 8), 0.4, random_state=0))

pipeline = Pipeline([
    ("imputer", MeanImputer()),
    ("classifier", LogisticRegression(max_iter=500)),
])
# One grid per kind of imputer: the search also chooses the imputer itself.
grid = [
    {"imputer": [MeanImputer()]},
    {"imputer": [DiffusionInpaintImputer()], "imputer__kernel": [1, 2]},
    {"imputer": [LMRBMImputer(n_components=64, n_epochs=10, batch_size=32, random_state=0)],
     "imputer__learning_rate": [3e-3, 3e-2]},
]
features = PCA(n_components=20, random_state=0).fit(X_reference)
search = GridSearchCV(
    pipeline,
    grid,
    scoring={
        "masked_rmse": MaskedRMSEScorer(fraction=0.1, random_state=0),
        "fid": FIDScorer(X_reference, features=features),
        "accuracy": "accuracy",
    },
    refit="masked_rmse",
    cv=3,
)
search.fit(X_missing, y_train)

# %%
# The scores of every candidate (the scorers return minus the RMSE and minus the FID,
# so that greater is better for ``GridSearchCV``; they are printed as RMSE and FID).
results = search.cv_results_


def label(params):
    """A short name for a candidate: the imputer's class and the searched parameter."""
    name = type(params["imputer"]).__name__.replace("Imputer", "")
    extra = [f"{key.split('__')[1]}={value:g}" for key, value in params.items()
             if key != "imputer"]
    return " ".join([name, *extra])


labels = [label(params) for params in results["params"]]
masked_rmse = -results["mean_test_masked_rmse"]
fid = -results["mean_test_fid"]
accuracy = results["mean_test_accuracy"]
print(f"{'candidate':<32}{'masked RMSE':>12}{'FID':>8}{'accuracy':>10}")
for i, name in enumerate(labels):
    print(f"{name:<32}{masked_rmse[i]:>12.4f}{fid[i]:>8.2f}{accuracy[i]:>10.3f}")
print("chosen (lowest masked RMSE):", label(search.best_params_))

# %%
# The same scores as bars; the chosen candidate is the dark one.
colors = ["tab:blue" if i == search.best_index_ else "lightsteelblue"
          for i in range(len(labels))]
fig, axes = plt.subplots(1, 3, figsize=(10, 3.2), sharey=True)
for ax, values, title in zip(axes, [masked_rmse, fid, accuracy],
                             ["masked RMSE (lower is better)", "FID (lower is better)",
                              "accuracy (higher is better)"]):
    bars = ax.barh(np.arange(len(labels)), values, color=colors)
    ax.bar_label(bars, fmt="%.3f", fontsize=7, padding=2)
    ax.set_xlim(0, 1.25 * values.max())
    ax.set_title(title, fontsize=9)
axes[0].set_yticks(np.arange(len(labels)), labels, fontsize=8)
axes[0].invert_yaxis()
fig.tight_layout()
plt.show()
