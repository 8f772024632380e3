"""Fidelity of the missingness mechanisms and the untrained imputers to the paper's Table 1.

For every mechanism (I.M., S.O., P.M.) at 0.3/0.6/0.9, on the 10,000 real MNIST test
digits (read from $SKRBM_IMPUTE_DATA): the first 5,000, masked, fit the Mean imputer
(and a logistic regression on the Mean-imputed digits); the last 5,000 are masked and
scored.  Prints, ours next to the paper's:

* Mean RMSE / I.M. Mean RMSE (same rate; for the I.M. rows, relative to I.M. 0.3):
  the paper's Mean RMSE is .257 under I.M. at every rate, .058/.169/.247 under S.O.
  and .262/.264/.262 under P.M.;
* diffusion (Inpaint [18]) RMSE / Mean RMSE;
* with --nearest, diffusion / Mean with the replicated-edge border (the former default);
* with --accuracy, the Mean-imputer logistic-regression accuracy (%).

    SKRBM_IMPUTE_DATA=../shared/data/mnist OMP_NUM_THREADS=1 \
        python benchmarks/fidelity_table.py --seeds 0 1 --accuracy --nearest \
        > benchmarks/results/fidelity_table/fidelity_table.md
"""

import argparse
import time

import numpy as np

from _common import masked_halves, table_rule, untrained_scores
from skrbm_impute import DiffusionInpaintImputer
from skrbm_impute.datasets import load_mnist
from skrbm_impute.experiment._paper import paper_value
from skrbm_impute.metrics import rmse

RATES = (0.3, 0.6, 0.9)
MECHANISMS = ("IM", "SO", "PM")
LABELS = {"IM": "I.M.", "SO": "S.O.", "PM": "P.M."}
def paper_mean_ratio(mechanism, rate):
    reference_rate = 0.3 if mechanism == "IM" else rate
    return (paper_value(mechanism, rate, "rmse", "mean")
            / paper_value("IM", reference_rate, "rmse", "mean"))


def paper_diffusion_ratio(mechanism, rate):
    return (paper_value(mechanism, rate, "rmse", "diffusion")
            / paper_value(mechanism, rate, "rmse", "mean"))


def measure(X, y, mechanism, rate, seed, accuracy, nearest):
    halves = masked_halves(X, mechanism, rate, seed, seed + 1000)
    out = untrained_scores(X, y, halves, accuracy=accuracy, max_iter=500)
    if nearest:  # the former default border, for comparison
        test, _, X_test, test_mask = halves
        diffused = DiffusionInpaintImputer(mode="nearest").fit(X_test).transform(X_test)
        out["nearest"] = rmse(test, diffused, test_mask)
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--accuracy", action="store_true")
    parser.add_argument("--nearest", action="store_true",
                        help="also diffusion/Mean with the replicated-edge border")
    args = parser.parse_args()
    start = time.perf_counter()
    X, y = load_mnist(subset="test", download=False)
    results = {(m, r, s): measure(X, y, m, r, s, args.accuracy, args.nearest)
               for s in args.seeds for m in MECHANISMS for r in RATES}

    def values(key, mechanism, rate):
        out = []
        for s in args.seeds:
            cell = results[mechanism, rate, s]
            if key == "mean_ratio":
                ref = results["IM", 0.3 if mechanism == "IM" else rate, s]["mean"]
                out.append(cell["mean"] / ref)
            elif key in ("diffusion", "nearest"):
                out.append(cell[key] / cell["mean"])
            else:
                out.append(cell[key])
        return np.array(out)

    def show(vals, digits):
        text = f"{vals.mean():.{digits}f}"
        if len(vals) > 1:
            text += f" ({vals.min():.{digits}f}-{vals.max():.{digits}f})"
        return text

    print(f"# Fidelity table: seeds {args.seeds}, 5,000 digits fit / 5,000 masked\n")
    print("Ours (mean over seeds, range in brackets) / paper (Table 1). Mean ratio: Mean "
          "RMSE over I.M. Mean RMSE at the same rate (I.M. rows: over I.M. 0.3, so "
          "I.M. 0.3 is 1 by definition). Default geometry: P.M. 4x4 clipped rectangles, "
          "diffusion zero padding.\n")
    header = "| cell | Mean ratio | paper | diff/Mean | paper |"
    if args.nearest:
        header += " diff/Mean, nearest border |"
    if args.accuracy:
        header += " Mean acc. % | paper |"
    print(header)
    print(table_rule(header))
    for mechanism in MECHANISMS:
        for rate in RATES:
            row = (f"| {LABELS[mechanism]} {rate} | {show(values('mean_ratio', mechanism, rate), 3)}"
                   f" | {paper_mean_ratio(mechanism, rate):.3f} | "
                   f"{show(values('diffusion', mechanism, rate), 3)} | "
                   f"{paper_diffusion_ratio(mechanism, rate):.3f} |")
            if args.nearest:
                row += f" {show(values('nearest', mechanism, rate), 3)} |"
            if args.accuracy:
                row += (f" {show(values('accuracy', mechanism, rate), 1)} | "
                        f"{paper_value(mechanism, rate, 'accuracy', 'mean')} |")
            print(row)
    print(f"\nAbsolute Mean RMSE (seed {args.seeds[0]}): " + ", ".join(
        f"{LABELS[m]} {r} {results[m, r, args.seeds[0]]['mean']:.3f}"
        for m in MECHANISMS for r in RATES))
    print(f"\n{time.perf_counter() - start:.0f} s on a shared 2-core machine.")


if __name__ == "__main__":
    main()
