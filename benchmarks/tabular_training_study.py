"""Which training makes TabularRBMImputer impute tables well: one lever at a time.

Protocol (HyperImpute's manner): each table is standardised with its complete-data
statistics, 30 % of the cells (``--rate``) are hidden (MCAR, or the logistic MAR of
``benchmarks/tabular_data.py``), and every imputer fills the holes of the standardised
table; the score is the RMSE on the holes divided by that of mean imputation
(``SimpleImputer``), summarised by the geometric mean over the tables.  Seeds 100-102
only: the benchmark's seeds 0-4 are never used for choosing.

A configuration is the base settings (``BASE``) with some parameters changed
(``--config name='{"n_epochs": 100}'``).  Each fit is scored with both imputation modes
(``transform`` after ``set_params(imputation=...)``), which share the training.  Rows go
to a CSV (appended; a row already there is not recomputed), one per configuration,
table, mask and seed; ``--summary`` prints the tables of figures.

Usage::

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/tabular_training_study.py \
        --config base='{}' --config cd1='{"cd_steps": 1}' --out results.csv
    python benchmarks/tabular_training_study.py --summary --out results.csv
"""

import argparse
import csv
import json
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tabular_data

#: The training study's base settings: the estimator's defaults at the start.
BASE = {}
SEEDS = (100, 101, 102)
TABLES = ("breast_cancer", "wine", "diabetes", "iris", "penguins", "concrete", "auto",
          "college", "penguins_mixed", "carseats", "crabs")
MASKS = ("mcar", "mar")
RATE = 0.3
FIELDS = ["config", "table", "mask", "seed", "method", "ratio", "fit_s", "n_iter"]


def _standardised(table):
    X = table.X[table.numeric].to_numpy(dtype=float)
    return (X - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0)


def _mask(Z, kind, seed, rate=RATE):
    import tabular_data

    if kind == "mcar":
        mask = tabular_data.mcar_mask(Z.shape, rate, rng=seed)
    else:
        mask = tabular_data.mar_logistic_mask(Z, rate, rng=seed)
    return mask


def _ratio(imputed, Z, mask, mean_rmse):
    return float(np.sqrt(np.mean((imputed[mask] - Z[mask]) ** 2)) / mean_rmse)


def _cases(tables, masks, seeds, rate=RATE):
    import tabular_data

    for name in tables:
        Z = _standardised(tabular_data.load_table(name))
        for kind in masks:
            for seed in seeds:
                mask = _mask(Z, kind, seed, rate)
                X = np.where(mask, np.nan, Z)
                mean = np.where(mask, np.nanmean(X, 0), Z)
                yield name, kind, seed, Z, mask, X, _ratio(mean, Z, mask, 1.0)


def _baselines(X, seed):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer, KNNImputer

    return {"KNNImputer": KNNImputer(),
            "ICE-BayesianRidge": IterativeImputer(random_state=seed, max_iter=10)}


def _done(path):
    if not path.exists():
        return set()
    with open(path) as f:
        return {(r["config"], r["table"], r["mask"], r["seed"]) for r in csv.DictReader(f)}


def run(configs, out, tables, masks, seeds, baselines, rate=RATE):
    import torch

    from skrbm_impute import TabularRBMImputer

    torch.set_num_threads(1)
    done = _done(out)
    new = not out.exists()
    with open(out, "a", newline="") as f:
        writer = csv.DictWriter(f, FIELDS)
        if new:
            writer.writeheader()
        for name, kind, seed, Z, mask, X, mean_rmse in _cases(tables, masks, seeds,
                                                                    rate):
            rows = []
            if baselines and ("baselines", name, kind, str(seed)) not in done:
                for method, imputer in _baselines(X, seed).items():
                    start = time.process_time()
                    imputed = imputer.fit_transform(X)
                    rows.append(dict(config="baselines", method=method,
                                     ratio=_ratio(imputed, Z, mask, mean_rmse),
                                     fit_s=time.process_time() - start, n_iter=""))
                for row in rows:
                    row.update(table=name, mask=kind, seed=seed)
                    writer.writerow(row)
                rows = []
            for config, params in configs.items():
                if (config, name, kind, str(seed)) in done:
                    continue
                imputer = TabularRBMImputer(**{**BASE, **params, "random_state": seed})
                start = time.process_time()
                imputer.fit(X)
                fit_s = time.process_time() - start
                for mode in ("chain-average", "mean-field"):
                    imputed = imputer.set_params(imputation=mode).transform(X)
                    writer.writerow(dict(config=config, table=name, mask=kind, seed=seed,
                                         method=mode, ratio=_ratio(imputed, Z, mask,
                                                                   mean_rmse),
                                         fit_s=round(fit_s, 3), n_iter=imputer.n_iter_))
                f.flush()
                print(f"{config} {name} {kind} {seed} fit {fit_s:.1f}s", flush=True)


def summary(out, configs=None, reference=None):
    """Markdown: per configuration and imputation mode, the geometric mean over the
    tables of the seeds' mean ratio, per mask, with the median fit seconds; with
    ``reference``, also that configuration's and the baselines' figures on the same
    tables (a configuration measured on fewer tables is compared on those)."""
    import pandas as pd

    frame = pd.read_csv(out).drop_duplicates(["config", "table", "mask", "seed", "method"])
    if configs:
        frame = frame[frame.config.isin(configs + ["baselines"])]
    per_table = frame.groupby(["config", "method", "mask", "table"]).agg(
        ratio=("ratio", "mean"), seeds=("seed", "nunique")).reset_index()
    order = list(dict.fromkeys(frame.config))
    lines = []
    for (config, method), group in per_table.groupby(["config", "method"], sort=False):
        row = {"config": config, "method": method}
        for mask in ("mcar", "mar"):
            cases = group[group["mask"] == mask]
            tables = set(cases.table)
            row[mask] = _geo(cases.ratio)
            if reference:
                for name, ref_config, ref_method in (
                        ("reference", reference, method),
                        ("KNN", "baselines", "KNNImputer"),
                        ("ICE", "baselines", "ICE-BayesianRidge")):
                    ref = per_table[(per_table.config == ref_config)
                                    & (per_table.method == ref_method)
                                    & (per_table["mask"] == mask)
                                    & per_table.table.isin(tables)]
                    row[f"{mask} {name}"] = (_geo(ref.ratio) if set(ref.table) == tables
                                             else float("nan"))
            row[f"{mask} tables"] = len(tables)
        row["fit_s (median)"] = float(frame[(frame.config == config)
                                            & (frame.method == method)].fit_s.median())
        lines.append(row)
    wide = pd.DataFrame(lines).set_index(["config", "method"])
    wide = wide.reindex(sorted(wide.index, key=lambda k: (order.index(k[0]), k[1])))
    print(_markdown(wide))
    print()
    table = per_table.pivot_table(index=["config", "method", "mask"], columns="table",
                                  values="ratio")
    print(_markdown(table.reindex(sorted(table.index, key=lambda k: (order.index(k[0]),
                                                                    k[1], k[2])))))


def _geo(ratios):
    return float(np.exp(np.log(np.asarray(ratios, dtype=float)).mean())) if len(ratios) \
        else float("nan")


def _markdown(frame):
    """A DataFrame as a markdown table (index levels first), ratios to 3 decimals."""
    names = [str(n) for n in frame.index.names] + [str(c) for c in frame.columns]
    lines = ["| " + " | ".join(names) + " |", "|" + " --- |" * len(names)]
    for key, *values in frame.itertuples(name=None):
        key = key if isinstance(key, tuple) else (key,)
        cells = [str(k) for k in key] + [_cell(v) for v in values]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value):
    if isinstance(value, (int, np.integer)):
        return str(value)
    if isinstance(value, float) and np.isnan(value):
        return ""
    return f"{value:.3f}" if isinstance(value, float) else str(value)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--config", action="append", default=[],
                        help="name=JSON of TabularRBMImputer parameters")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--tables", default=",".join(TABLES))
    parser.add_argument("--masks", default=",".join(MASKS))
    parser.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    parser.add_argument("--rate", type=float, default=RATE,
                        help="share of the cells hidden (one rate per CSV: the rows do "
                             "not record it)")
    parser.add_argument("--no-baselines", action="store_true")
    parser.add_argument("--summary", action="store_true")
    parser.add_argument("--only", default="", help="configs to summarise, comma-separated")
    parser.add_argument("--reference", default=None,
                        help="config to compare each one with on the same tables")
    args = parser.parse_args(argv)
    if args.summary:
        summary(args.out, [c for c in args.only.split(",") if c], args.reference)
        return
    configs = {}
    for item in args.config:
        name, _, params = item.partition("=")
        configs[name] = json.loads(params or "{}")
    run(configs, args.out, args.tables.split(","), args.masks.split(","),
        [int(s) for s in args.seeds.split(",")], not args.no_baselines, args.rate)


if __name__ == "__main__":
    main()
