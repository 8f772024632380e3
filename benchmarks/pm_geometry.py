"""Which P.M. geometry is the paper's?  Mean and diffusion RMSE and Mean-imputer accuracy
for candidate rectangle geometries, next to the paper's figures (Table 1).

Data: the 10,000 real MNIST test digits (read from $SKRBM_IMPUTE_DATA):
the first 5,000 (masked, same mechanism and rate) fit the Mean imputer and a logistic
regression on the Mean-imputed digits; the last 5,000 are masked and scored.  Only the
two untrained imputers are used, so the choice is not tuned for any trained method.

    SKRBM_IMPUTE_DATA=../shared/data/mnist OMP_NUM_THREADS=1 \
        python benchmarks/pm_geometry.py [--accuracy] \
        > benchmarks/results/pm_geometry/pm_geometry.md
"""

import argparse

from _common import masked_halves, table_rule, untrained_scores
from skrbm_impute.datasets import load_mnist
from skrbm_impute.experiment._paper import paper_value

RATES = (0.3, 0.6, 0.9)
# The paper's P.M. figures (Table 1): Mean RMSE relative to I.M., diffusion/Mean, accuracy.
PAPER_MEAN_RATIO = {r: paper_value("PM", r, "rmse", "mean")
                    / paper_value("IM", r, "rmse", "mean") for r in RATES}
PAPER_DIFFUSION = {r: paper_value("PM", r, "rmse", "diffusion")
                   / paper_value("PM", r, "rmse", "mean") for r in RATES}
PAPER_ACCURACY = {r: paper_value("PM", r, "accuracy", "mean") for r in RATES}
PAPER_IM_ACCURACY = {r: paper_value("IM", r, "accuracy", "mean") for r in RATES}


def scores(X, y, mechanism, rate, seed, accuracy, **geometry):
    halves = masked_halves(X, mechanism, rate, seed, seed + 1, **geometry)
    out = untrained_scores(X, y, halves, accuracy=accuracy, max_iter=300)
    test, _, _, test_mask = halves
    # fraction of the digit's ink (sum of pixel values) that is hidden
    out["ink"] = float((test * test_mask).sum() / test.sum())
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accuracy", action="store_true", help="also fit logistic regressions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sizes", type=int, nargs="*", default=[3, 4, 5, 6, 7, 8],
                        help="square sides to try (clipped placement)")
    parser.add_argument("--no-extras", action="store_true",
                        help="skip the 'inside' and 3x8 candidates")
    args = parser.parse_args()
    X, y = load_mnist(subset="test", download=False)
    reference = {rate: scores(X, y, "IM", rate, args.seed, args.accuracy) for rate in RATES}
    candidates = [(f"{s}x{s} clipped", {"patch_size": s}) for s in args.sizes]
    candidates += [] if args.no_extras else [("5x5 inside", {"patch_size": 5, "placement": "inside"}),
                   ("3x8 clipped", {"patch_size": (3, 8)})]
    print(f"# P.M. geometry candidates (seed {args.seed}; 5,000 fit / 5,000 masked)\n")
    print("Mean ratio = P.M. Mean RMSE / I.M. Mean RMSE at the same rate; "
          "diff/Mean = diffusion RMSE / Mean RMSE; ink = fraction of the digits' ink hidden; "
          "acc = logistic-regression accuracy (%) on Mean-imputed digits. "
          "Paper values after the slash.\n")
    header = "| geometry | rate | k | Mean ratio | diff/Mean | ink |"
    if args.accuracy:
        header += " acc |"
    print(header)
    print(table_rule(header))
    if args.accuracy:
        print("| I.M. (calibration) | " + ", ".join(f"{r}" for r in RATES) + " | | | | | "
              + ", ".join(f"{reference[r]['accuracy']:.1f} / {PAPER_IM_ACCURACY[r]}"
                          for r in RATES) + " |")
    from skrbm_impute.masks import patch_count
    for name, geometry in candidates:
        for rate in RATES:
            s = scores(X, y, "PM", rate, args.seed, args.accuracy, **geometry)
            k = patch_count(rate, (28, 28), geometry["patch_size"],
                            geometry.get("placement", "clipped"))
            row = (f"| {name} | {rate} | {k:.1f} | "
                   f"{s['mean'] / reference[rate]['mean']:.3f} / {PAPER_MEAN_RATIO[rate]:.3f} | "
                   f"{s['diffusion'] / s['mean']:.3f} / {PAPER_DIFFUSION[rate]:.3f} | "
                   f"{s['ink']:.2f} |")
            if args.accuracy:
                row += f" {s['accuracy']:.1f} / {PAPER_ACCURACY[rate]} |"
            print(row, flush=True)


if __name__ == "__main__":
    main()
