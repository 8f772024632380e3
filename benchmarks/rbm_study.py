"""RBM imputation studies on real MNIST: training settings, imputation modes, factors.

8,000 of the 10,000 MNIST test digits (``$SKRBM_IMPUTE_DATA`` or ``--data-home``)
train, the other 2,000 are imputed (``--n-train`` takes fewer training digits).  For
every mask draw, mechanism and rate, training and test masks are drawn independently
(``skrbm_impute.masks.make_mask``, the package defaults for each mechanism); the Mean
imputer (and, with ``--diffusion``, the diffusion inpainting imputer) is scored on the
same masks.  Each model is fitted once per training-mask draw (``--draws``) and scored
on ``--test-draws`` independently drawn test masks, under every ``--modes`` imputation
mode: RMSE (the paper's per-image RMSE over the missing pixels), its ratio to the Mean
imputer's, and with ``--fid`` the FID (bundled MNIST LeNet) of the 2,000 imputed test
images against the clean ones.  ``cpu_s`` is the fit's CPU time (process time: on a
shared machine wall time says little); one torch thread throughout.

Models: ``lm`` (LMRBMImputer), ``rbm5`` (MaskedRBMImputer, ref [5] without b_m),
``lm-no89`` (LMRBMImputer(gradient_correction=False), [5] read as "Algorithm 1
without lines 8-9"); ``--params`` (JSON) sets the estimator parameters of all of them,
``--label`` names that setting in the CSV.

    OMP_NUM_THREADS=1 python benchmarks/rbm_study.py --label momentum --mechanisms IM \\
        --rates 0.6 --params '{"momentum": 0.9, "learning_rate": 3e-4}' \\
        --csv benchmarks/results/rbm_study.csv
    python benchmarks/rbm_study.py --summarize benchmarks/results/rbm_study.csv
"""

import argparse
import json
import time
import warnings

import numpy as np
import torch

from _common import add_summary_options, append_row, emit_table
from skrbm_impute import DiffusionInpaintImputer, LMRBMImputer, MaskedRBMImputer, MeanImputer
from skrbm_impute.datasets import load_mnist
from skrbm_impute.masks import apply_mask, make_mask
from skrbm_impute.metrics import feature_statistics, fid, rmse

MODELS = {
    "lm": (LMRBMImputer, {}),
    "rbm5": (MaskedRBMImputer, {}),
    "lm-no89": (LMRBMImputer, {"gradient_correction": False}),
}


def score(X_test, imputed, test_mask, reference, with_fid):
    error = rmse(X_test, imputed, test_mask)
    distance = fid(reference, imputed) if with_fid else float("nan")
    return error, distance


def run(args):
    X, _ = load_mnist(subset="test", data_home=args.data_home)
    X_train, X_test = X[:args.n_train], X[8000:]
    reference = feature_statistics(X_test) if args.fid else None
    params = json.loads(args.params)
    for draw in args.draws:
        for mechanism in args.mechanisms:
            for rate in args.rates:
                train_mask = make_mask(mechanism, len(X_train), (28, 28), rate,
                                       random_state=1000 * draw + 1)
                train = apply_mask(X_train, train_mask)
                baselines = {"mean": MeanImputer().fit(train)}
                if args.diffusion:
                    baselines["diffusion"] = DiffusionInpaintImputer().fit(train)
                fitted = {}
                for model in args.models:
                    cls, options = MODELS[model]
                    start = time.process_time()
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        estimator = cls(random_state=draw, **options, **params).fit(train)
                    fitted[model] = estimator, time.process_time() - start
                    for w in caught:
                        print("warning:", w.message, flush=True)
                for test_draw in range(args.test_draws):
                    # test_draw 0 keeps the seed earlier CSVs used
                    test_mask = make_mask(mechanism, len(X_test), (28, 28), rate,
                                          random_state=1000 * draw + 2 + 10 * test_draw)
                    test = apply_mask(X_test, test_mask)
                    base = dict(label=args.label, draw=draw, test_draw=test_draw,
                                mechanism=mechanism, rate=rate, n_train=len(X_train))
                    score_cell(args, base, params, baselines, fitted, X_test, test,
                               test_mask, reference)


def score_cell(args, base, params, baselines, fitted, X_test, test, test_mask, reference):
    scores = {name: score(X_test, imputer.transform(test), test_mask, reference, args.fid)
              for name, imputer in baselines.items()}
    mean_rmse = scores["mean"][0]
    for name, (error, distance) in scores.items():
        append_row(args.csv, dict(base, model=name, mode="", params="", rmse=error,
                              ratio=error / mean_rmse, fid=distance, cpu_s=0.0,
                              learning_rate_=""))
    for model, (estimator, cpu) in fitted.items():
        for mode in args.modes:
            estimator.set_params(imputation=mode)
            imputed = estimator.transform(test)
            error, distance = score(X_test, imputed, test_mask, reference, args.fid)
            row = dict(base, model=model, mode=mode, params=json.dumps(params),
                       rmse=error, ratio=error / mean_rmse, fid=distance,
                       cpu_s=round(cpu, 1),
                       learning_rate_=estimator.learning_rate_)
            print(row, flush=True)
            append_row(args.csv, row)


def summarize(paths, markdown):
    import pandas as pd

    table = pd.concat([pd.read_csv(path) for path in paths])
    table["mode"] = table["mode"].fillna("")
    keys = ["mechanism", "rate", "label", "model", "mode"]
    grouped = table.groupby(keys, sort=False)
    summary = grouped.agg(ratio=("ratio", "mean"), ratio_se=("ratio", "sem"),
                          fid=("fid", "mean"), fid_se=("fid", "sem"),
                          draws=("ratio", "count"), cpu_s=("cpu_s", "median"))
    summary = summary.reset_index()
    rows = ["| mech | rate | setting | model | mode | RMSE/Mean | FID | draws | fit CPU s |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in summary.itertuples():
        se = "" if np.isnan(r.ratio_se) else f" ± {r.ratio_se:.3f}"
        fse = "" if np.isnan(r.fid_se) else f" ± {r.fid_se:.1f}"
        fid_text = "" if np.isnan(r.fid) else f"{r.fid:.1f}{fse}"
        rows.append(f"| {r.mechanism} | {r.rate} | {r.label} | {r.model} | {r.mode} | "
                    f"{r.ratio:.3f}{se} | {fid_text} | {r.draws} | {r.cpu_s:.0f} |")
    emit_table(rows, markdown)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--label", default="default")
    parser.add_argument("--draws", type=int, nargs="+", default=[0],
                        help="training-mask draws (each trains its own models)")
    parser.add_argument("--test-draws", type=int, default=1,
                        help="test-mask draws scored per trained model")
    parser.add_argument("--mechanisms", nargs="+", default=["IM"])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.6])
    parser.add_argument("--models", nargs="+", default=["lm", "rbm5"], choices=list(MODELS))
    parser.add_argument("--modes", nargs="+", default=["mean-field"])
    parser.add_argument("--params", default="{}", help="estimator parameters (JSON)")
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--fid", action="store_true")
    parser.add_argument("--diffusion", action="store_true")
    parser.add_argument("--csv", default="benchmarks/results/rbm_study.csv")
    add_summary_options(parser)
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize, args.markdown)
    else:
        torch.set_num_threads(1)
        run(args)


if __name__ == "__main__":
    main()
