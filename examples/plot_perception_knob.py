"""
One RBM, the whole perception-distortion trade-off
==================================================

The RBM imputers' ``perception`` parameter moves one fitted model along the
perception-distortion trade-off: ``perception=0`` fills each hole with the mean-field
estimate of the posterior mean (lowest RMSE), ``perception=1`` with one draw of a Gibbs
chain whose observed pixels are clamped (a sample of the model's posterior: the
perception end), and values in between with the interpolation ``(1 - p) x̂_0 + p x̂_1``.
How far the FID falls along the way depends on the model and the data: on MNIST the
LM-RBM's FID falls at every step from 0 to 1 (``benchmarks/results/perception_knob``).
``sample_imputations`` gives several such draws, i.e. multiple imputation, from which
per-pixel intervals follow.

This example uses scikit-learn's 8x8 digits so that it runs in seconds; FID is computed
on raw pixels (the bundled MNIST LeNet needs 28x28 images).  ``skrbm-impute benchmark``
draws the same curve on MNIST for every mechanism and rate (``pd_curve.png``).
"""

import warnings

import matplotlib.pyplot as plt
import numpy as np
from scipy.linalg import LinAlgWarning

from skrbm_impute import DiffusionInpaintImputer, LMRBMImputer, MeanImputer
from skrbm_impute.datasets import load_digits_01
from skrbm_impute.masks import apply_mask, make_mask
from skrbm_impute.metrics import fid, interval_coverage, rmse

# The knob's p = 1 end fills holes with 0/1 draws of the Bernoulli RBM, so the digits are
# binarised here, as MNIST nearly is (a 0/1 draw into grey 8x8 digits is off their
# distribution and would raise the FID).
X, _ = load_digits_01()
X = (X > 0.5).astype(np.float64)
X_train, X_test = X[:1200], X[1200:]
mask_train = make_mask("IM", len(X_train), (8, 8), rate=0.5, random_state=0)
mask_test = make_mask("IM", len(X_test), (8, 8), rate=0.5, random_state=1)
train, test = apply_mask(X_train, mask_train), apply_mask(X_test, mask_test)

# The border pixels of the 8x8 digits are always 0, so the pixel covariances of the
# FID are singular and SciPy warns; the distance is computed as pytorch-fid does.
warnings.filterwarnings("ignore", category=LinAlgWarning)


def pixels(images):
    """FID features: the raw pixel vectors."""
    return images


model = LMRBMImputer(n_components=64, n_epochs=60, batch_size=32, learning_rate=3e-3,
                     random_state=0).fit(train)

# %%
# The curve: RMSE (distortion) and FID (perception) at five knob values of the one
# fitted model, next to the Mean imputer and diffusion inpainting.
levels = [0, 0.25, 0.5, 0.75, 1]
curve = []
for p in levels:
    imputed = model.set_params(perception=p).transform(test)
    curve.append((rmse(X_test, imputed, mask_test),
                  fid(X_test, imputed, features=pixels)))
    print(f"perception={p:<4}  RMSE {curve[-1][0]:.3f}  FID {curve[-1][1]:.2f}")

points = {}
for name, imputer in [("Mean", MeanImputer()), ("Inpaint", DiffusionInpaintImputer())]:
    imputed = imputer.fit(train).transform(test)
    points[name] = rmse(X_test, imputed, mask_test), fid(X_test, imputed, features=pixels)

fig, ax = plt.subplots(figsize=(5, 4))
ax.plot(*zip(*curve), marker="o", label="LM-RBM, perception 0 → 1")
for p, (x, y) in zip(levels, curve):
    ax.annotate(f"{p:g}", (x, y), textcoords="offset points", xytext=(4, 3), fontsize=8)
for name, (x, y) in points.items():
    ax.plot([x], [y], marker="s", linestyle="none", label=name)
ax.set_xlabel("RMSE (distortion)")
ax.set_ylabel("FID on pixels (perception)")
ax.legend()
fig.tight_layout()

# %%
# Multiple imputation: 20 posterior draws per digit give per-pixel 90 % intervals
# (5 % and 95 % quantiles of the draws); their coverage of the true pixels is measured
# on the held-out digits.
draws = model.sample_imputations(test, n_imputations=20, random_state=0)
coverage, width = interval_coverage(X_test, draws, mask_test, level=0.9, return_width=True)
print(f"90 % intervals: coverage {coverage:.3f}, mean width {width:.3f}")

fig, axes = plt.subplots(3, 6, figsize=(6, 3.2))
for row, (ax_row, i) in enumerate(zip(axes, [0, 1, 2])):
    images = [X_test[i], np.where(mask_test[i], 0.5, X_test[i])] + list(draws[:4, i])
    for ax, image in zip(ax_row, images):
        ax.imshow(image.reshape(8, 8), cmap="gray", vmin=0, vmax=1)
        ax.set_axis_off()
for ax, title in zip(axes[0], ["clean", "masked", "draw 1", "draw 2", "draw 3", "draw 4"]):
    ax.set_title(title, fontsize=8)
fig.tight_layout()
plt.show()
