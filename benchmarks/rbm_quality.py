"""RBM imputation quality on real MNIST, as ratios to the Mean imputer's RMSE.

8,000 of the 10,000 MNIST test digits train, the other 2,000 are imputed; I.M. masks
at each rate, independently drawn for training and test data per mask draw.  For each
RBM: per-image RMSE over the missing pixels averaged over images (the paper's RMSE),
divided by MeanImputer's RMSE on the same masks.  Prints mean ± standard error over
the draws, per model and rate, and appends every measurement to ``--csv``.

Short-run settings (the paper trains 4,096 hidden units for 500 epochs at η = 1e-4):
``n_components=600`` (more than the rank 549 "auto" gives at rate 0.3, so that
"auto" factorises at every rate), ``n_epochs=15``, ``learning_rate=4e-3``, batch 128, the same for
LM-RBM and RBM [5].

    OMP_NUM_THREADS=1 python benchmarks/rbm_quality.py --draws 0 1 2 --csv q.csv
    python benchmarks/rbm_quality.py --summarize q.csv [more.csv ...]
"""

import argparse
import csv
import os
import time

import numpy as np
import torch

from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MeanImputer
from skrbm_impute.datasets import load_mnist
from skrbm_impute.masks import apply_mask, independent_mask

MODELS = {
    "LM full": (LMRBMImputer, None, {}),
    "LM auto": (LMRBMImputer, "auto", {}),
    "[5] full": (MaskedRBMImputer, None, {}),
    "[5] auto": (MaskedRBMImputer, "auto", {}),
    # ablations (not run by default)
    "LM lambda=1": (LMRBMImputer, None, {"observation_scaling": False}),
    "LM no 8-9": (LMRBMImputer, None, {"gradient_correction": False}),
}
DEFAULT_MODELS = ["LM full", "LM auto", "[5] full", "[5] auto"]


def image_rmse(X_true, X_imputed, mask):
    """Mean over images of the RMSE over each image's missing pixels."""
    counts = mask.sum(axis=1)
    errors = np.where(mask, (X_imputed - X_true) ** 2, 0.0).sum(axis=1)
    keep = counts > 0
    return float(np.mean(np.sqrt(errors[keep] / counts[keep])))


def run(args):
    X, _ = load_mnist(subset="test", data_home=args.data_home)
    X_train, X_test = X[:8000], X[8000:]
    settings = dict(n_components=args.n_components, n_epochs=args.n_epochs,
                    learning_rate=args.learning_rate, batch_size=128)
    for draw in args.draws:
        for rate in args.rates:
            train_mask = independent_mask(8000, (28, 28), rate, random_state=1000 * draw + 1)
            test_mask = independent_mask(2000, (28, 28), rate, random_state=1000 * draw + 2)
            train, test = apply_mask(X_train, train_mask), apply_mask(X_test, test_mask)
            mean_rmse = image_rmse(X_test, MeanImputer().fit(train).transform(test), test_mask)
            for name in args.models:
                cls, rank, options = MODELS[name]
                start = time.perf_counter()
                model = cls(rank=rank, random_state=draw, **options, **settings).fit(train)
                rmse = image_rmse(X_test, model.transform(test), test_mask)
                row = dict(draw=draw, rate=rate, model=name, rank=model.rank_, rmse=rmse,
                           mean_rmse=mean_rmse, ratio=rmse / mean_rmse,
                           fit_seconds=round(time.perf_counter() - start, 1), **settings)
                print(row, flush=True)
                new = not os.path.exists(args.csv)
                with open(args.csv, "a", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=list(row))
                    if new:
                        writer.writeheader()
                    writer.writerow(row)


def summarize(paths):
    import pandas as pd

    table = pd.concat([pd.read_csv(path) for path in paths])
    grouped = table.groupby(["rate", "model"])["ratio"]
    summary = grouped.agg(["mean", "sem", "count"])
    summary["rank"] = table.groupby(["rate", "model"])["rank"].first()
    summary["fit_s"] = table.groupby(["rate", "model"])["fit_seconds"].median()
    print(f"RMSE / Mean-imputer RMSE (mean ± s.e. over draws), from {', '.join(paths)}")
    for (rate, model), row in summary.iterrows():
        rank = "full" if np.isnan(row["rank"]) else int(row["rank"])
        print(f"I.M. {rate:.1f}  {model:11s} {row['mean']:.3f} ± {row['sem']:.3f}"
              f"  (n={int(row['count'])}, rank={rank}, fit {row['fit_s']:.0f} s)")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="MNIST IDX folder (default: $SKRBM_IMPUTE_DATA, then ~/.skrbm_impute/mnist)")
    parser.add_argument("--draws", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.3, 0.6, 0.9])
    parser.add_argument("--models", nargs="+", default=DEFAULT_MODELS, choices=list(MODELS))
    parser.add_argument("--n-components", type=int, default=600)
    parser.add_argument("--n-epochs", type=int, default=15)
    parser.add_argument("--learning-rate", type=float, default=4e-3)
    parser.add_argument("--csv", default="rbm_quality.csv")
    parser.add_argument("--summarize", metavar="CSV", nargs="+")
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize)
    else:
        torch.set_num_threads(1)
        run(args)


if __name__ == "__main__":
    main()
