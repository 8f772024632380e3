"""
Missingness mechanisms and the two NumPy imputers
=================================================

The paper's three mechanisms (:func:`~skrbm_impute.independent_mask` I.M.,
:func:`~skrbm_impute.square_observation_mask` S.O.,
:func:`~skrbm_impute.patch_missingness_mask` P.M.) hide pixels of MNIST digits; the
Mean imputer and Oliveira et al.'s diffusion inpainting fill them.  Both imputers are
plain scikit-learn transformers that need no torch.  The RMSE is the paper's: the
per-image RMSE over the missing pixels, averaged over images.
"""

import matplotlib.pyplot as plt
import numpy as np

from skrbm_impute import DiffusionInpaintImputer, MeanImputer, apply_mask, make_mask
from skrbm_impute.datasets import load_mnist_sample
from skrbm_impute.masks import MECHANISMS
from skrbm_impute.metrics import rmse

X, _ = load_mnist_sample()  # 5,000 MNIST training digits in [0, 1], offline
order = np.random.RandomState(0).permutation(len(X))
X_train, X_test = X[order[:1000]], X[order[1000:1008]]

# %%
# Mask at 60 % missing with each mechanism, fit on masked training digits, impute.
rate = 0.6
fig, axes = plt.subplots(3 * len(MECHANISMS), 8, figsize=(8, 9.5))
for row, mechanism in enumerate(MECHANISMS):
    train_mask = make_mask(mechanism, len(X_train), (28, 28), rate, random_state=1)
    test_mask = make_mask(mechanism, len(X_test), (28, 28), rate, random_state=2)
    X_missing = apply_mask(X_test, test_mask)
    mean = MeanImputer().fit(apply_mask(X_train, train_mask)).transform(X_missing)
    diffused = DiffusionInpaintImputer().fit(X_missing).transform(X_missing)
    print(f"{mechanism}: RMSE mean {rmse(X_test, mean, test_mask):.3f}, "
          f"diffusion {rmse(X_test, diffused, test_mask):.3f}")
    shown = [("masked", np.where(test_mask, 0.5, X_test)), ("mean", mean),
             ("diffusion", diffused)]
    for k, (label, images) in enumerate(shown):
        for j in range(8):
            ax = axes[3 * row + k, j]
            ax.imshow(images[j].reshape(28, 28), cmap="gray", vmin=0, vmax=1)
            ax.set_xticks([]), ax.set_yticks([])
        axes[3 * row + k, 0].set_ylabel(f"{mechanism}\n{label}", fontsize=8)
fig.suptitle("60 % missing (grey = hidden): masked, Mean, diffusion")
fig.tight_layout()
plt.show()
