"""RBM time to quality: epochs and fit CPU time against RMSE/Mean and FID, and epoch cost.

``quality`` (the protocol of ``benchmarks/rbm_study.py``): the first 8,000 of the 10,000
real MNIST test digits (``$SKRBM_IMPUTE_DATA``) train, the last 2,000 are imputed; I.M.
0.6 masks from ``skrbm_impute.masks.make_mask``, training mask seed ``1000 d + 1`` for
training draw ``d``, test masks ``1000 d + 2 + 10 t`` for test draw ``t``.  For each
model (``lm``: ``LMRBMImputer``, ``rbm5``: ``MaskedRBMImputer``), setting (``before``:
the former defaults passed explicitly; ``after``: the estimators' current defaults;
``fast``: the fast option, ``cd_statistics="probabilities"`` with 256 hidden units, 16
epochs and lr 2e-3, passed explicitly) and
``--epochs`` value, one fit per training draw at one torch thread, its CPU time
(``time.process_time``), then RMSE (the paper's per-image RMSE over the missing pixels)
relative to the Mean imputer on the same masks, and FID (bundled MNIST LeNet, the 2,000
imputed test images against the clean ones), per test draw.  ``--epochs 0`` means the
setting's own ``n_epochs``.

``epoch-cost``: the CPU time of one training epoch of ``LMRBMImputer`` (half the
difference of a 3-epoch and a 1-epoch fit: the fit's set-up excluded; the 1-epoch fit,
set-up included, is printed too) against the CPU time of its minimal matrix products
(the five GEMMs per batch of ``benchmarks/bench_rbm_epoch.py``), at ``--hidden`` units
on the 5,000 offline MNIST digits, I.M. 0.5 masks, medians over ``--repeats``
alternated runs.

``validate`` (where the settings were chosen; no test digit involved): the first 6,000
of the 10,000 MNIST test digits train, digits 6,000-8,000 are imputed (I.M. at
``--rate``, training mask seed 1, validation mask seed 2, one fit, ``random_state=0``);
each ``--configs`` entry is a JSON object of estimator parameters on top of the
defaults of the package on the path; one JSON line per fit (CPU time, RMSE/Mean).

``summarize``: markdown tables of the CSVs (medians of CPU time, means of ratio and FID).

    export SKRBM_IMPUTE_DATA=/work/shared/data/mnist OMP_NUM_THREADS=1
    PYTHONPATH=$PWD python benchmarks/rbm_time_to_quality.py quality --settings before after \\
        --csv benchmarks/results/rbm_time_to_quality/quality.csv
    PYTHONPATH=$PWD python benchmarks/rbm_time_to_quality.py epoch-cost --hidden 512 4096 \\
        --csv benchmarks/results/rbm_time_to_quality/epoch_cost.csv
    PYTHONPATH=$PWD python benchmarks/rbm_time_to_quality.py validate --rate 0.9 \\
        --configs '{"learning_rate": 2e-3}' '{"learning_rate": 4e-3}'
    PYTHONPATH=$PWD python benchmarks/rbm_time_to_quality.py summarize \\
        benchmarks/results/rbm_time_to_quality/quality.csv
"""

import argparse
import json
import os
import statistics
import time
import warnings

import numpy as np
import torch

from benchmarks import bench_rbm_epoch
from benchmarks._common import append_row
from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MeanImputer
from skrbm_impute.datasets import load_mnist, load_mnist_sample
from skrbm_impute.masks import apply_mask, independent_mask, make_mask
from skrbm_impute.metrics import feature_statistics, fid, rmse

MODELS = {"lm": LMRBMImputer, "rbm5": MaskedRBMImputer}
#: The defaults before the probabilities' statistics (commit 0f828a3), passed explicitly;
#: run them with that commit's package on the path (it has no ``cd_statistics``: its
#: step is Algorithm 1's sampled one).
BEFORE = {"n_components": 512, "n_epochs": 40, "batch_size": 128, "learning_rate": 1e-3,
          "momentum": 0.9, "learning_rate_schedule": "linear", "warmup_epochs": 0,
          "rank": None, "matmul_dtype": "float32", "imputation": "mean-field"}
#: The fast option (the updates built from probabilities), passed explicitly: not the
#: defaults, which keep Algorithm 1's sampled step.
FAST = {"n_components": 256, "n_epochs": 16, "learning_rate": 2e-3,
        "cd_statistics": "probabilities"}
SETTINGS = {"before": BEFORE, "after": {}, "fast": FAST}


def quality(args):
    X, _ = load_mnist(subset="test")
    X_train, X_test = X[:8000], X[8000:]
    reference = feature_statistics(X_test) if args.fid else None
    extra = json.loads(args.params)
    for draw in args.draws:
        train_mask = make_mask("IM", len(X_train), (28, 28), 0.6,
                               random_state=1000 * draw + 1)
        train = apply_mask(X_train, train_mask)
        mean_imputer = MeanImputer().fit(train)
        tests = []
        for test_draw in range(args.test_draws):
            mask = make_mask("IM", len(X_test), (28, 28), 0.6,
                             random_state=1000 * draw + 2 + 10 * test_draw)
            test = apply_mask(X_test, mask)
            tests.append((test_draw, mask, test, rmse(X_test, mean_imputer.transform(test),
                                                      mask)))
        for setting in args.settings:
            for model in args.models:
                for epochs in args.epochs:
                    params = dict(SETTINGS[setting], **extra)
                    if epochs:
                        params["n_epochs"] = epochs
                    estimator = MODELS[model](random_state=draw, n_threads=1, **params)
                    start = time.process_time()
                    with warnings.catch_warnings(record=True) as caught:
                        warnings.simplefilter("always")
                        estimator.fit(train)
                    cpu = time.process_time() - start
                    for w in caught:
                        print("warning:", w.message, flush=True)
                    for test_draw, mask, test, mean_rmse in tests:
                        imputed = estimator.transform(test)
                        error = rmse(X_test, imputed, mask)
                        distance = fid(reference, imputed) if args.fid else float("nan")
                        row = dict(setting=setting, model=model, draw=draw,
                                   test_draw=test_draw, n_epochs=estimator.n_epochs,
                                   n_iter=estimator.n_iter_, cpu_s=round(cpu, 2),
                                   ratio=round(error / mean_rmse, 4),
                                   fid=round(distance, 2), load=round(os.getloadavg()[0], 1),
                                   params=json.dumps(estimator.get_params()))
                        print({k: v for k, v in row.items() if k != "params"}, flush=True)
                        append_row(args.csv, row)


def epoch_cost(args):
    X, _ = load_mnist_sample()
    X = X.astype(np.float32)
    X_missing = apply_mask(X, independent_mask(len(X), (28, 28), 0.5, random_state=0))
    for hidden in args.hidden:
        bench_rbm_epoch.N_HIDDEN = hidden
        # A small rate: no epoch trips the divergence guard (which would refit).
        models = [LMRBMImputer(**dict(dict(n_components=hidden, n_epochs=n, learning_rate=1e-4,
                                           momentum=0.9, n_threads=1, random_state=0),
                                      **json.loads(args.params)))
                  for n in (1, 3)]
        models[0].fit(X_missing[:256])  # warm-up (allocator)
        products = bench_rbm_epoch.minimal_products(len(X), torch.device("cpu"),
                                                    torch.float32)
        products()
        times = {"fit1": [], "fit3": [], "products": []}
        for _ in range(args.repeats):  # alternated, so that a changing load hits all alike
            for key, fn in (("fit1", lambda: models[0].fit(X_missing)),
                            ("fit3", lambda: models[1].fit(X_missing)),
                            ("products", products)):
                start = time.process_time()
                fn()
                times[key].append(time.process_time() - start)
        fit1, fit3, products_s = (statistics.median(times[k])
                                  for k in ("fit1", "fit3", "products"))
        epoch = (fit3 - fit1) / 2  # one more epoch, without the fit's set-up
        row = dict(label=args.label, params=args.params, hidden=hidden, n_images=len(X),
                   fit_1_epoch_cpu_s=round(fit1, 3), epoch_cpu_s=round(epoch, 3),
                   products_cpu_s=round(products_s, 3), ratio=round(epoch / products_s, 2),
                   ratio_with_setup=round(fit1 / products_s, 2),
                   load=round(os.getloadavg()[0], 1))
        print(row, flush=True)
        append_row(args.csv, row)


def validate(args):
    X, _ = load_mnist(subset="test")
    X_train, X_val = X[:6000], X[6000:8000]
    train = apply_mask(X_train, make_mask("IM", len(X_train), (28, 28), args.rate,
                                          random_state=1))
    mask = make_mask("IM", len(X_val), (28, 28), args.rate, random_state=2)
    val = apply_mask(X_val, mask)
    mean_rmse = rmse(X_val, MeanImputer().fit(train).transform(val), mask)
    for config in args.configs:
        params = json.loads(config)
        for model in args.models:
            estimator = MODELS[model](random_state=0, n_threads=1, **params)
            start = time.process_time()
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                estimator.fit(train)
            cpu = time.process_time() - start
            ratio = rmse(X_val, estimator.transform(val), mask) / mean_rmse
            row = dict(model=model, rate=args.rate, **estimator.get_params(),
                       epochs_run=estimator.n_iter_, fit_cpu_s=round(cpu, 2),
                       rmse_over_mean=round(ratio, 4), backed_off=bool(caught),
                       load=round(os.getloadavg()[0], 1))
            print(json.dumps(row), flush=True)
            if args.jsonl:
                with open(args.jsonl, "a") as f:
                    f.write(json.dumps(row) + "\n")


def summarize(args):
    import pandas as pd

    table = pd.read_csv(args.path)
    keys = ["setting", "model", "n_epochs"]
    per_fit = table.groupby(keys + ["draw"], sort=False).agg(
        n_iter=("n_iter", "first"), cpu_s=("cpu_s", "first"), ratio=("ratio", "mean"),
        fid=("fid", "mean"), load=("load", "mean"))
    summary = per_fit.groupby(keys, sort=False).agg(
        n_iter=("n_iter", "median"), cpu_s=("cpu_s", "median"), ratio=("ratio", "mean"),
        fid=("fid", "mean"), fits=("ratio", "count"), load=("load", "mean")).reset_index()
    tests = table.groupby(keys, sort=False)["ratio"].agg(["count", "sem"]).reset_index()
    rows = ["| setting | model | n_epochs | epochs run | fit CPU s (median) | RMSE/Mean | "
            "FID | fits x test draws | load |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r, t in zip(summary.itertuples(), tests.itertuples()):
        se = "" if np.isnan(t.sem) else f" ± {t.sem:.3f}"
        rows.append(f"| {r.setting} | {r.model} | {r.n_epochs} | {r.n_iter:.0f} | "
                    f"{r.cpu_s:.1f} | {r.ratio:.3f}{se} | {r.fid:.1f} | "
                    f"{r.fits} x {t.count // r.fits} | {r.load:.0f} |")
    print("\n".join(rows))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    q = sub.add_parser("quality")
    q.add_argument("--models", nargs="+", default=["lm", "rbm5"], choices=list(MODELS))
    q.add_argument("--settings", nargs="+", default=["before", "after"],
                   choices=list(SETTINGS))
    q.add_argument("--epochs", type=int, nargs="+", default=[0])
    q.add_argument("--draws", type=int, nargs="+", default=[0])
    q.add_argument("--test-draws", type=int, default=3)
    q.add_argument("--params", default="{}", help="extra estimator parameters (JSON)")
    q.add_argument("--no-fid", dest="fid", action="store_false")
    q.add_argument("--csv", default="benchmarks/results/rbm_time_to_quality/quality.csv")
    e = sub.add_parser("epoch-cost")
    e.add_argument("--hidden", type=int, nargs="+", default=[512, 4096])
    e.add_argument("--repeats", type=int, default=3)
    e.add_argument("--label", default="current")
    e.add_argument("--params", default="{}", help="extra estimator parameters (JSON)")
    e.add_argument("--csv", default="benchmarks/results/rbm_time_to_quality/epoch_cost.csv")
    v = sub.add_parser("validate")
    v.add_argument("--models", nargs="+", default=["lm"], choices=list(MODELS))
    v.add_argument("--rate", type=float, default=0.6)
    v.add_argument("--configs", nargs="+", default=["{}"])
    v.add_argument("--jsonl", default="")
    s = sub.add_parser("summarize")
    s.add_argument("path")
    args = parser.parse_args()
    torch.set_num_threads(1)
    {"quality": quality, "epoch-cost": epoch_cost, "validate": validate,
     "summarize": summarize}[args.command](args)


if __name__ == "__main__":
    main()
