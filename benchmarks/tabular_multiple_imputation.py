"""Multiple imputation of real tables: interval coverage and pooled downstream scores.

Same standardisation and masks as ``benchmarks/tabular_benchmark.py``.  By default four
tables (wine, diabetes, iris and the mixed carseats: classification, regression, small,
mixed), because 20 IterativeImputer fits per cell is all the shared 2-core machine
allowed; ``tabular_benchmark.py`` also scores the coverage of TabularRBMImputer's draws
on every table (its fits at rate 0.3, seeds 0-2).

``coverage``: every table's numeric cells hidden by MCAR or MAR at ``--rate`` (0.3);
20 draws per hole from

* ``tabular_rbm``: ``TabularRBMImputer(random_state=seed)`` fitted once on the incomplete
  table, then ``sample_imputations(X, n_imputations=20, random_state=seed)``;
* ``ice_posterior``: ``IterativeImputer(BayesianRidge(), sample_posterior=True,
  max_iter=10)`` fitted 20 times with ``random_state = 1000 * seed + k`` (scikit-learn's
  recipe for multiple imputation);

scored by :func:`skrbm_impute.metrics.interval_coverage` (the 5 %-95 % quantiles of the
20 draws, nominal 90 %) and the mean width of those intervals, over the hidden numeric
cells (categorical cells of the mixed tables are imputed but not scored here); also the
RMSE of the draws' average, as a ratio to mean imputation's.

``downstream``: the tables with a target; a fixed split per seed (70 % train, 30 % test,
stratified for classification, ``train_test_split(random_state=seed)``); the mask is
drawn on all rows, so train and test features both have holes.  Every imputer is fitted
on the training features and fills both parts.  Model: ``LogisticRegression(max_iter=
1000)`` (accuracy) or ``Ridge()`` (R^2), on the standardised numeric columns and the
categorical columns' one-hot indicators.  Methods:

* ``complete``: the model on the data without holes (the ceiling);
* single imputation: ``mean`` (SimpleImputer, most frequent for categories), ``ice``
  (IterativeImputer(BayesianRidge())), ``tabular_rbm`` (``TabularRBMImputer.transform``);
* pooled multiple imputation (20 draws): one model per draw (training draw k, test draw
  k), the test predictions averaged (class probabilities for the classifier):
  ``ice_mi`` (the 20 posterior-sampling IterativeImputers) and ``tabular_rbm_mi``
  (``sample_imputations`` on the training and on the test features).

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/tabular_multiple_imputation.py coverage
    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/tabular_multiple_imputation.py downstream
    python benchmarks/tabular_multiple_imputation.py summarize \\
        --markdown benchmarks/results/tabular_multiple_imputation/tables.md

Rows are appended per (table, mechanism, seed, method) and finished ones skipped.
"""

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import append_row  # noqa: E402
from tabular_benchmark import (  # noqa: E402
    OneHot,
    Ordinal,
    _mean,
    commit,
    draw_mask,
    hide,
    markdown_table,
    numeric_rmse,
    standardised,
    tabular_rbm,
)
from tabular_data import TABLE_NAMES, load_table  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results" / "tabular_multiple_imputation"
N_DRAWS = 20
MI_TABLES = ("wine", "diabetes", "iris", "carseats")


def _ice(seed, sample_posterior=False):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer
    from sklearn.linear_model import BayesianRidge

    return IterativeImputer(BayesianRidge(), max_iter=10, sample_posterior=sample_posterior,
                            random_state=seed)


def _rbm(table, seed):
    import torch

    torch.set_num_threads(1)
    return tabular_rbm(table.categorical, seed)


def _frame(values, like):
    """A draw or an imputation as a DataFrame with ``like``'s columns and kinds."""
    frame = values.reset_index(drop=True) if isinstance(values, pd.DataFrame) else \
        pd.DataFrame(np.asarray(values, dtype=object), columns=like.columns)
    for column in like.columns:
        if isinstance(like[column].dtype, pd.CategoricalDtype):
            frame[column] = pd.Categorical(frame[column].astype(str),
                                           categories=like[column].cat.categories)
        else:
            frame[column] = frame[column].astype(float)
    return frame


class IceDraws:
    """20 posterior-sampling IterativeImputers (categorical columns as category indices,
    as in ``tabular_benchmark.py``)."""

    def __init__(self, table, seed, n_draws=N_DRAWS):
        self.table, self.seed, self.n_draws = table, seed, n_draws

    def fit(self, X):
        self.encoding_ = Ordinal(X, self.table.categorical)
        encoded = self.encoding_.encode(X)
        self.imputers_ = [_ice(1000 * self.seed + k, sample_posterior=True).fit(encoded)
                          for k in range(self.n_draws)]
        return self

    def draws(self, X):
        encoded = self.encoding_.encode(X)
        return [self.encoding_.decode(imputer.transform(encoded)) for imputer in self.imputers_]


class RbmDraws:
    """TabularRBMImputer fitted once, ``sample_imputations`` for the draws."""

    def __init__(self, table, seed, n_draws=N_DRAWS):
        self.table, self.seed, self.n_draws = table, seed, n_draws

    def fit(self, X):
        self.imputer_ = _rbm(self.table, self.seed).fit(X)
        return self

    def draws(self, X):
        stack = self.imputer_.sample_imputations(X, n_imputations=self.n_draws,
                                                 random_state=self.seed)
        return [_frame(stack[k], X) for k in range(len(stack))]


DRAWERS = {"ice_posterior": IceDraws, "tabular_rbm": RbmDraws}


def done_cells(path, keys):
    if not Path(path).exists():
        return set()
    with open(path, newline="") as f:
        return {tuple(r[k] for k in keys) for r in csv.DictReader(f)}


def timed(function, *args):
    wall, cpu = time.perf_counter(), time.process_time()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = function(*args)
    return result, time.perf_counter() - wall, time.process_time() - cpu


# ---------------------------------------------------------------- coverage

def coverage_fields(table, X, mask, draws, mechanism, rate, seed, method, reference, wall,
                    cpu, revision):
    from skrbm_impute.metrics import interval_coverage

    numeric = [X.columns.get_loc(c) for c in table.numeric]
    truth = X[table.numeric].to_numpy(dtype=float)
    holes = mask[:, numeric]
    stack = np.stack([d[table.numeric].to_numpy(dtype=float) for d in draws])
    coverage, width = interval_coverage(truth, stack, holes, level=0.9, return_width=True)
    average = stack.mean(axis=0)
    error = float(np.sqrt(np.mean((average[holes] - truth[holes]) ** 2)))
    return {"table": table.name, "mechanism": mechanism, "rate": rate, "seed": seed,
            "method": method, "n_draws": len(draws), "n_holes": int(holes.sum()),
            "coverage": round(coverage, 5), "width": round(width, 5),
            "draw_mean_ratio": round(error / reference, 5),
            "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
            "commit": revision, "load": round(os.getloadavg()[0], 2)}


def rbm_coverage_row(imputer, table, X, X_missing, mask, mechanism, rate, seed, reference,
                     fit_wall, fit_cpu):
    """The coverage row of a TabularRBMImputer the benchmark has just fitted on ``X_missing``;
    its seconds are the fit's plus the 20 draws'."""
    drawer = RbmDraws(table, seed)
    drawer.imputer_ = imputer
    draws, wall, cpu = timed(drawer.draws, X_missing)
    return coverage_fields(table, X, mask, draws, mechanism, rate, seed, "tabular_rbm",
                           reference, fit_wall + wall, fit_cpu + cpu, commit())


def run_coverage(args):
    path = Path(args.out) / "coverage.csv"
    keys = ("table", "mechanism", "seed", "method")
    done = done_cells(path, keys)
    revision = commit()
    for name in args.tables:
        table = load_table(name)
        X = standardised(table)
        for mechanism in args.mechanisms:
            for seed in args.seeds:
                todo = [m for m in args.methods if (name, mechanism, str(seed), m) not in done]
                if not todo:
                    continue
                mask = draw_mask(table, mechanism, args.rate, seed)
                X_missing = hide(X, mask)
                reference, _ = numeric_rmse(X, _mean(X_missing, table, seed), mask, table)
                for method in todo:
                    def draw(method=method):
                        drawer = DRAWERS[method](table, seed).fit(X_missing)
                        return drawer.draws(X_missing)
                    draws, wall, cpu = timed(draw)
                    row = coverage_fields(table, X, mask, draws, mechanism, args.rate, seed,
                                          method, reference, wall, cpu, revision)
                    append_row(path, row)
                    print(json.dumps(row), flush=True)


# ---------------------------------------------------------------- downstream

def model(task):
    from sklearn.linear_model import LogisticRegression, Ridge

    return LogisticRegression(max_iter=1000) if task == "classification" else Ridge()


def features(frame, encoding):
    return encoding.encode(frame)


def predict(task, X_train, y_train, X_test):
    fitted = model(task).fit(X_train, y_train)
    return fitted.predict_proba(X_test) if task == "classification" else fitted.predict(X_test)


def score(task, prediction, y_test, classes):
    if task == "classification":
        return float(np.mean(classes[np.argmax(prediction, axis=1)] == y_test))
    residual = np.sum((y_test - prediction) ** 2)
    return float(1 - residual / np.sum((y_test - y_test.mean()) ** 2))


def single(method, table, seed):
    def impute(train, test):
        if method == "mean":
            fitted_on = train
            filled_train = _mean(train, table, seed)
            # the test holes get the training means / modes
            filled_test = test.copy()
            for column in table.numeric:
                filled_test[column] = test[column].fillna(fitted_on[column].mean())
            for column in table.categorical:
                filled_test[column] = test[column].fillna(fitted_on[column].mode().iloc[0])
            return filled_train, filled_test
        if method == "ice":
            encoding = Ordinal(train, table.categorical)
            imputer = _ice(seed).fit(encoding.encode(train))
            return (encoding.decode(imputer.transform(encoding.encode(train))),
                    encoding.decode(imputer.transform(encoding.encode(test))))
        raise ValueError(method)
    return impute


def run_downstream(args):
    from sklearn.model_selection import train_test_split

    path = Path(args.out) / "downstream.csv"
    keys = ("table", "mechanism", "seed", "method")
    done = done_cells(path, keys)
    revision = commit()
    methods = args.methods_downstream
    for name in args.tables:
        table = load_table(name)
        if table.y is None:
            continue
        X = standardised(table)
        y = table.y.to_numpy()
        classes = np.unique(y) if table.task == "classification" else None
        encoding = OneHot(X, table.categorical)
        for mechanism in args.mechanisms:
            for seed in args.seeds:
                todo = [m for m in methods if (name, mechanism, str(seed), m) not in done]
                if not todo:
                    continue
                mask = draw_mask(table, mechanism, args.rate, seed)
                X_missing = hide(X, mask)
                train, test = train_test_split(
                    np.arange(len(X)), test_size=0.3, random_state=seed,
                    stratify=y if table.task == "classification" else None)
                train_missing = X_missing.iloc[train].reset_index(drop=True)
                test_missing = X_missing.iloc[test].reset_index(drop=True)
                fitted = {}

                def drawer_for(method):
                    # tabular_rbm and tabular_rbm_mi share one fit (transform / draws)
                    key = "ice_posterior" if method == "ice_mi" else "tabular_rbm"
                    if key not in fitted:
                        fitted[key] = DRAWERS[key](table, seed).fit(train_missing)
                    return fitted[key]

                for method in todo:
                    def evaluate(method=method):
                        if method == "complete":
                            prediction = predict(table.task, features(X.iloc[train], encoding),
                                                 y[train], features(X.iloc[test], encoding))
                            return prediction, 1
                        if method == "tabular_rbm":
                            imputer = drawer_for(method).imputer_
                            filled_train = _frame(imputer.transform(train_missing), train_missing)
                            filled_test = _frame(imputer.transform(test_missing), test_missing)
                            prediction = predict(table.task, features(filled_train, encoding),
                                                 y[train], features(filled_test, encoding))
                            return prediction, 1
                        if method in ("mean", "ice"):
                            filled_train, filled_test = single(method, table, seed)(
                                train_missing, test_missing)
                            prediction = predict(table.task, features(filled_train, encoding),
                                                 y[train], features(filled_test, encoding))
                            return prediction, 1
                        drawer = drawer_for(method)
                        pairs = zip(drawer.draws(train_missing), drawer.draws(test_missing))
                        predictions = [predict(table.task, features(a, encoding), y[train],
                                               features(b, encoding)) for a, b in pairs]
                        return np.mean(predictions, axis=0), len(predictions)
                    (prediction, n_draws), wall, cpu = timed(evaluate)
                    row = {"table": name, "task": table.task, "mechanism": mechanism,
                           "rate": args.rate, "seed": seed, "method": method,
                           "n_draws": n_draws,
                           "metric": "accuracy" if table.task == "classification" else "R2",
                           "score": round(score(table.task, prediction, y[test], classes), 5),
                           "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                           "commit": revision, "load": round(os.getloadavg()[0], 2)}
                    append_row(path, row)
                    print(json.dumps(row), flush=True)


# ---------------------------------------------------------------- summary

def _cell(values):
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        return "-"
    se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
    return f"{values.mean():.3f} ± {se:.3f}" + ("" if values.size >= 3 else f" (n={values.size})")


def summarize(args):
    text = []
    out = Path(args.out)
    coverage_path = out / "coverage.csv"
    if coverage_path.exists():
        frame = pd.read_csv(coverage_path).drop_duplicates(
            ["table", "mechanism", "seed", "method"], keep="last")
        methods = [m for m in DRAWERS if m in set(frame["method"])]
        for mechanism in ("MCAR", "MAR"):
            part = frame[frame["mechanism"] == mechanism]
            if part.empty:
                continue
            rate = part["rate"].iloc[0]
            text.append(f"## {mechanism} {rate:g}: coverage of the 90 % intervals / their mean "
                        f"width / RMSE of the draws' average over mean imputation's\n")
            rows = []
            for t in [t for t in TABLE_NAMES if t in set(part["table"])]:
                sub = part[part["table"] == t]
                row = [t]
                for m in methods:
                    s = sub[sub["method"] == m]
                    row += [_cell(s["coverage"]), _cell(s["width"]), _cell(s["draw_mean_ratio"])]
                rows.append(row)
            common = set.intersection(*[set(part[part["method"] == m]["table"])
                                        for m in methods])
            all_rows = [f"the {len(common)} tables both ran (mean of table means)"]
            for m in methods:
                s = part[(part["method"] == m) & part["table"].isin(common)].groupby(
                    "table")[["coverage", "width", "draw_mean_ratio"]].mean()
                all_rows += [f"{s['coverage'].mean():.3f}", f"{s['width'].mean():.3f}",
                             f"{np.exp(np.log(s['draw_mean_ratio']).mean()):.3f} (geo)"]
            rows.append(all_rows)
            header = ["table"] + [f"{m} {q}" for m in methods
                                  for q in ("coverage", "width", "avg/mean")]
            text.append(markdown_table(header, rows))
            text.append("\n" + markdown_table(
                ["method", "median CPU s (fit + 20 draws)", "median wall s"],
                [[m, f"{part[part['method'] == m]['cpu_s'].median():.1f}",
                  f"{part[part['method'] == m]['wall_s'].median():.1f}"] for m in methods]) + "\n")
    downstream_path = out / "downstream.csv"
    if downstream_path.exists():
        frame = pd.read_csv(downstream_path).drop_duplicates(
            ["table", "mechanism", "seed", "method"], keep="last")
        order = ["complete", "mean", "ice", "tabular_rbm", "ice_mi", "tabular_rbm_mi"]
        methods = [m for m in order if m in set(frame["method"])]
        for mechanism in ("MCAR", "MAR"):
            part = frame[frame["mechanism"] == mechanism]
            if part.empty:
                continue
            rate = part["rate"].iloc[0]
            text.append(f"\n## Downstream, {mechanism} {rate:g}: test accuracy (classification) "
                        f"or R² (regression), mean ± SE over seeds\n")
            rows = []
            for t in [t for t in TABLE_NAMES if t in set(part["table"])]:
                sub = part[part["table"] == t]
                rows.append([t, sub["metric"].iloc[0]]
                            + [_cell(sub[sub["method"] == m]["score"]) for m in methods])
            text.append(markdown_table(["table", "metric"] + methods, rows))
        text.append("\n" + markdown_table(
            ["method", "median CPU s (imputation + models)"],
            [[m, f"{frame[frame['method'] == m]['cpu_s'].median():.1f}"] for m in methods]))
        text.append(f"\nCommits: {', '.join(sorted(frame['commit'].astype(str).unique()))}.")
    result = "\n".join(text)
    if args.markdown:
        Path(args.markdown).write_text(result + "\n")
    print(result)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("study", choices=["coverage", "downstream", "summarize"])
    parser.add_argument("--tables", nargs="+", default=list(MI_TABLES))
    parser.add_argument("--mechanisms", nargs="+", default=["MCAR", "MAR"])
    parser.add_argument("--rate", type=float, default=0.3)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=list(DRAWERS))
    parser.add_argument("--methods-downstream", nargs="+",
                        default=["complete", "mean", "ice", "tabular_rbm", "ice_mi",
                                 "tabular_rbm_mi"])
    parser.add_argument("--out", default=str(RESULTS))
    parser.add_argument("--markdown", default=None)
    args = parser.parse_args()
    {"coverage": run_coverage, "downstream": run_downstream, "summarize": summarize}[
        args.study](args)


if __name__ == "__main__":
    main()
