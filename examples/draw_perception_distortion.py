"""
Draw the perception-distortion plane from a results file
========================================================

Not run when the documentation is built: it reads the ``results.csv`` of a benchmark run
(``plot_benchmark_digits.py`` draws the same figure from a run made on the spot).

Each method is a marker; its points, joined in rate order and labelled by rate, sit
at (RMSE, FID) averaged over the repeat pairs, with standard-error bars; lower-left is
better.  Works on any ``results.csv`` written by ``skrbm-impute benchmark`` (also a
partial one of a run still going)::

    python examples/draw_perception_distortion.py RESULTS [OUT.png]
"""

import sys

from skrbm_impute.experiment import plot_perception_distortion, read_results, summarize

results = sys.argv[1] if len(sys.argv) > 1 else "skrbm-impute-results"
out = sys.argv[2] if len(sys.argv) > 2 else "perception_distortion.png"
frame = read_results(results)
plot_perception_distortion(frame, out)
points = summarize(frame[frame["metric"].isin(["rmse", "fid"])])
print(points.pivot_table(index=["mechanism", "rate", "method"], columns="metric",
                         values="mean").round(3).to_string())
print(f"Wrote {out}")
