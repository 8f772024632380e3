"""
The LM-RBM on incomplete digits, in seconds
===========================================

A small :class:`~skrbm_impute.LMRBMImputer` (64 hidden units, 10 epochs) is trained on
incomplete MNIST digits only (no complete image is ever seen) and compared with the
masked RBM of Salakhutdinov et al. (:class:`~skrbm_impute.MaskedRBMImputer`, the
paper's ref. [5]) and the Mean imputer.  The paper's models are far larger (4,096 hidden
units, 500 epochs): see the ``paper`` preset of the benchmark.  At this toy size the
two RBMs beat the Mean imputer but their order is not the paper's; the benchmark's
``cpu`` and ``paper`` presets measure it.
"""

import matplotlib.pyplot as plt
import numpy as np

from skrbm_impute import (
    LMRBMImputer,
    MaskedRBMImputer,
    MeanImputer,
    apply_mask,
    independent_mask,
)
from skrbm_impute.datasets import load_mnist_sample
from skrbm_impute.metrics import rmse

X, _ = load_mnist_sample()
order = np.random.RandomState(0).permutation(len(X))
X_train, X_test = X[order[:2000]], X[order[2000:2500]]
train_mask = independent_mask(len(X_train), (28, 28), rate=0.6, random_state=1)
test_mask = independent_mask(len(X_test), (28, 28), rate=0.6, random_state=2)
X_train_missing = apply_mask(X_train, train_mask)
X_test_missing = apply_mask(X_test, test_mask)

settings = dict(n_components=64, n_epochs=10, batch_size=64, learning_rate=0.01,
                random_state=0)
imputers = {
    "Mean": MeanImputer(),
    "RBM [5]": MaskedRBMImputer(**settings),
    "LM-RBM": LMRBMImputer(**settings),
}
imputed = {}
for name, imputer in imputers.items():
    imputed[name] = imputer.fit(X_train_missing).transform(X_test_missing)
    print(f"{name:8s} RMSE {rmse(X_test, imputed[name], test_mask):.3f}")

# %%
# Clean digits, the observed pixels, and each imputation.
rows = [("clean", X_test), ("observed", np.where(test_mask, 0.5, X_test)), *imputed.items()]
fig, axes = plt.subplots(len(rows), 8, figsize=(8, 1.1 * len(rows)))
for i, (label, images) in enumerate(rows):
    for j in range(8):
        axes[i, j].imshow(images[j].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
        axes[i, j].set_xticks([]), axes[i, j].set_yticks([])
    axes[i, 0].set_ylabel(label, fontsize=8)
fig.tight_layout()
plt.show()
