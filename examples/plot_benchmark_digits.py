"""
A benchmark run in seconds, and its figures
===========================================

:func:`~skrbm_impute.experiment.run_benchmark` runs methods x mechanisms x rates x
repeat pairs and writes a tidy ``results.csv``, a Table-1-style summary and the
figures.  This run uses scikit-learn's 8x8 digits, two methods and FID on raw pixels
(the bundled MNIST LeNet needs 28x28 images) so that it takes seconds; ``skrbm-impute
benchmark`` runs the ``quick`` preset (all five methods on MNIST digits).
"""

import tempfile
import warnings

import matplotlib.pyplot as plt
from scipy.linalg import LinAlgWarning

from skrbm_impute.experiment import run_benchmark, summarize

tiny = {
    "dataset": "digits",
    "n_train": 200,
    "n_test": 100,
    "rates": [0.3, 0.6, 0.9],
    "n_train_repeats": 1,
    "n_test_repeats": 2,
    "methods": ["mean", "diffusion"],
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 100},
    "params": {"diffusion": {"n_iter": 50}},
}
out = tempfile.mkdtemp(prefix="skrbm-impute-gallery-")
# The border pixels of the 8x8 digits are always 0, so the pixel covariances of the
# FID are singular and SciPy warns at each FID; the distance is still computed as
# pytorch-fid does (1e-6 added to the diagonals).
warnings.filterwarnings("ignore", category=LinAlgWarning)
run = run_benchmark(tiny, out, progress=False, echo=None)

# %%
# The tidy results: one row per method, mechanism, rate, repeat pair and metric;
# :func:`~skrbm_impute.experiment.summarize` gives mean and standard error.
table = summarize(run.results)
print(table[table["metric"] == "rmse"].to_string(index=False))

# %%
# The figures the run wrote: metric-against-rate curves (the paper's Figure 1) and
# the perception-distortion plane (FID against RMSE; lower-left is better).
for name in ("curves", "perception_distortion"):
    image = plt.imread(run.figures[name])
    fig, ax = plt.subplots(figsize=(image.shape[1] / 100, image.shape[0] / 100), dpi=100)
    ax.imshow(image)
    ax.set_axis_off()
    fig.tight_layout(pad=0)
plt.show()
