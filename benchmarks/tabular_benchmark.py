"""Imputation of real tables: scikit-learn's imputers, TabularRBMImputer, HyperImpute.

Protocol (HyperImpute's manner, ``benchmarks/tabular_data.py`` for tables and masks):
numeric columns standardised on the complete table; cells hidden by MCAR or the logistic
MAR mask at rate 0.1 / 0.3 / 0.5 (the share of all cells); each method fills the whole
incomplete table (fit_transform, no train/test split: an imputer is judged on the holes
of the data it is given); score

* numeric cells: RMSE over all hidden numeric cells of the table (standardised units),
  and its ratio to ``SimpleImputer(strategy="mean")`` on the same mask;
* categorical cells: the share of hidden categories restored exactly.

Methods:

``mean``            SimpleImputer: mean for numeric, most frequent for categorical columns.
``knn``             KNNImputer(n_neighbors=5) (nan-Euclidean distances).
``ice_bayesridge``  IterativeImputer(BayesianRidge(), max_iter=10).
``ice_extratrees``  IterativeImputer(ExtraTreesRegressor(n_estimators=10), max_iter=5),
                    MissForest-style (MissForest uses random forests of 100 trees and up
                    to 10 sweeps; 10 trees x 5 sweeps fit the shared 2-core budget, see
                    the README for its seconds);
``ice_extratrees50`` the same with 50 trees.
``ice_extratrees_full`` the same at MissForest's size, 100 trees and up to 10 sweeps
                    (what the cut costs; rate 0.3).
``tabular_rbm``     TabularRBMImputer() with its defaults and ``random_state=seed``;
                    categorical columns given as ``categorical_features`` (native
                    softmax units).
``lmrbm_minmax``    the Bernoulli LMRBMImputer(n_components=64, n_epochs=300,
                    batch_size=32) on columns min-max scaled on their observed entries
                    (the setting of the 0.95 figure in the README), back-transformed.
``hyperimpute_<plugin>`` a HyperImpute plugin, ``Imputers().get(plugin,
                    random_state=seed)`` with the plugin's defaults (hyperimpute 0.1.17),
                    run with the Python of a separate virtual environment where
                    hyperimpute installs (it brings TensorFlow, xgboost, catboost and
                    lightgbm); the README has the command.

Categorical columns for the imputers that take numbers only:

* KNN and LMRBMImputer see a categorical column as its one-hot indicator block (NaN
  throughout the block where the category is hidden), impute the indicators as numbers
  and restore the block's argmax: for KNN the most frequent category among the 5
  neighbours (ties to the first category in sorted order).  The indicators enter KNN's
  distances unscaled (0/1) next to the standardised columns.
* ICE (both) and the HyperImpute plugins see a categorical column as its category index
  (0/1 for a binary one), imputed as a number and rounded to the nearest index; the
  iterative HyperImpute plugins (``hyperimpute``, ``ice``, ``missforest``) take a column
  with fewer than 5 distinct entries (a hole counting as one) for categorical and fit
  classifiers to it.  Not one-hot: the indicators of one column predict each other
  exactly (they sum to 1) and are missing together, so round-robin regression keeps them
  at their initial fill, the column means: measured here, one-hot ICE(BayesianRidge)
  restored exactly as many categories as the most frequent category did on crabs and
  carseats.

Rows are appended to ``--csv`` one per (table, mechanism, rate, seed, method); cells
already there are skipped, so the script can be stopped and rerun.  With
``--max-fit-cpu-s`` a fit past that CPU time is stopped, and the method skips the rest of
that table (printed, no row).  One thread
throughout (OMP/MKL/torch); ``wall_s`` and ``cpu_s`` (process time) time the
fit_transform alone.

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/tabular_benchmark.py \\
        --methods mean knn ice_bayesridge ice_extratrees
    python benchmarks/tabular_benchmark.py --summarize \\
        benchmarks/results/tabular_benchmark/results.csv \\
        --markdown benchmarks/results/tabular_benchmark/tables.md
"""

import os

for _variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import argparse  # noqa: E402
import contextlib  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import append_row, table_rule  # noqa: E402
from tabular_data import (  # noqa: E402
    MIXED_TABLE_NAMES,
    TABLE_NAMES,
    encode_for_mask,
    load_table,
    mar_logistic_mask,
    mcar_mask,
)

RESULTS = Path(__file__).resolve().parent / "results" / "tabular_benchmark"
FIELDS = ["table", "mechanism", "rate", "seed", "method", "realised_rate", "n_numeric_holes",
          "n_categorical_holes", "rmse", "rmse_mean", "ratio", "accuracy", "wall_s", "cpu_s",
          "commit", "load"]
ET_TREES, ET_SWEEPS = 10, 5
#: TabularRBMImputer's parameters in both tabular scripts; empty = the estimator's defaults.
#: (Rows of commits 686bfff-ed11637 ran tabcore's b073a9d with {"n_epochs": 100,
#: "learning_rate": 1e-2, "cd_steps": 1, "average_fraction": 0.25}: the defaults of d635a31.)
RBM_PARAMS = {}


def tabular_rbm(categorical, seed):
    """TabularRBMImputer with ``RBM_PARAMS`` (``average_fraction`` set on the instance
    where the estimator has it only as a private attribute)."""
    from skrbm_impute import TabularRBMImputer

    params = dict(RBM_PARAMS)
    private = {}
    if "average_fraction" in params and "average_fraction" not in TabularRBMImputer().get_params():
        private["_average_fraction"] = params.pop("average_fraction")
    imputer = TabularRBMImputer(categorical_features=list(categorical) or None,
                                random_state=seed, **params)
    for name, value in private.items():
        setattr(imputer, name, value)
    return imputer


# ---------------------------------------------------------------- data and masks

def standardised(table):
    """The table's features, numeric columns standardised on the complete table."""
    X = table.X.copy()
    for column in table.numeric:
        values = X[column].to_numpy(dtype=float)
        spread = values.std()
        X[column] = (values - values.mean()) / (spread if spread > 0 else 1.0)
    return X


def draw_mask(table, mechanism, rate, seed):
    if mechanism == "MCAR":
        return mcar_mask(table.shape, rate, seed)
    if mechanism == "MAR":
        return mar_logistic_mask(encode_for_mask(table), rate, seed)
    raise ValueError(f"unknown mechanism {mechanism!r}")


def hide(X, mask):
    X_missing = X.copy()
    for j, column in enumerate(X.columns):
        X_missing.loc[mask[:, j], column] = np.nan
    return X_missing


# ---------------------------------------------------------------- encodings

class _Encoding:
    """A table's columns, its categorical ones and their categories, for encode/decode."""

    def __init__(self, X, categorical):
        self.columns = list(X.columns)
        self.categorical = list(categorical)
        self.levels = {c: list(X[c].cat.categories) for c in self.categorical}


class OneHot(_Encoding):
    """Numeric columns as they are, each categorical column as its indicator block."""

    def encode(self, X):
        blocks = []
        for column in self.columns:
            values = X[column]
            if column in self.categorical:
                block = np.stack([(values == level).to_numpy(dtype=float)
                                  for level in self.levels[column]], axis=1)
                block[values.isna().to_numpy()] = np.nan
                blocks.append(block)
            else:
                blocks.append(values.to_numpy(dtype=float)[:, None])
        return np.hstack(blocks)

    def decode(self, array):
        out, start = {}, 0
        for column in self.columns:
            if column in self.categorical:
                width = len(self.levels[column])
                block = array[:, start:start + width]
                labels = np.asarray(self.levels[column], dtype=object)[np.argmax(block, axis=1)]
                out[column] = pd.Categorical(labels, categories=self.levels[column])
                start += width
            else:
                out[column] = array[:, start]
                start += 1
        return pd.DataFrame(out)


class Ordinal(_Encoding):
    """Numeric columns as they are, each categorical column as its category index."""

    def encode(self, X):
        columns = []
        for column in self.columns:
            if column in self.categorical:
                codes = X[column].cat.codes.to_numpy(dtype=float)
                codes[codes < 0] = np.nan
                columns.append(codes)
            else:
                columns.append(X[column].to_numpy(dtype=float))
        return np.column_stack(columns)

    def decode(self, array):
        out = {}
        for j, column in enumerate(self.columns):
            if column in self.categorical:
                levels = self.levels[column]
                index = np.clip(np.rint(array[:, j]), 0, len(levels) - 1).astype(int)
                out[column] = pd.Categorical(np.asarray(levels, dtype=object)[index],
                                             categories=levels)
            else:
                out[column] = array[:, j]
        return pd.DataFrame(out)


def via_ordinal(make_imputer):
    def impute(X_missing, table, seed):
        encoding = Ordinal(X_missing, table.categorical)
        filled = make_imputer(seed).fit_transform(encoding.encode(X_missing))
        return encoding.decode(filled)
    return impute


def via_one_hot(make_imputer):
    def impute(X_missing, table, seed):
        encoding = OneHot(X_missing, table.categorical)
        filled = make_imputer(seed).fit_transform(encoding.encode(X_missing))
        return encoding.decode(filled)
    return impute


# ---------------------------------------------------------------- methods

def _mean(X_missing, table, seed):
    from sklearn.impute import SimpleImputer

    out = X_missing.copy()
    if table.numeric:
        out[table.numeric] = SimpleImputer(strategy="mean").fit_transform(
            X_missing[table.numeric].to_numpy(dtype=float))
    for column in table.categorical:
        out[column] = out[column].fillna(X_missing[column].mode().iloc[0])
    return out


def _knn(seed):
    from sklearn.impute import KNNImputer

    return KNNImputer(n_neighbors=5)


def _ice_bayesridge(seed):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer
    from sklearn.linear_model import BayesianRidge

    return IterativeImputer(BayesianRidge(), max_iter=10, random_state=seed)


def _ice_extratrees(n_estimators, max_iter=ET_SWEEPS):
    def make(seed):
        from sklearn.ensemble import ExtraTreesRegressor
        from sklearn.experimental import enable_iterative_imputer  # noqa: F401
        from sklearn.impute import IterativeImputer

        trees = ExtraTreesRegressor(n_estimators=n_estimators, random_state=seed, n_jobs=1)
        return IterativeImputer(trees, max_iter=max_iter, random_state=seed)
    return make


def _tabular_rbm(X_missing, table, seed):
    import torch

    torch.set_num_threads(1)
    imputer = tabular_rbm(table.categorical, seed)
    filled = imputer.fit_transform(X_missing)
    # kept so that run() can draw multiple imputations from the same fit
    _tabular_rbm.fitted = imputer
    return _as_frame(filled, X_missing, table)


def _lmrbm_minmax(X_missing, table, seed):
    import torch

    from skrbm_impute import LMRBMImputer

    torch.set_num_threads(1)
    encoding = OneHot(X_missing, table.categorical)
    encoded = encoding.encode(X_missing)
    low, high = np.nanmin(encoded, axis=0), np.nanmax(encoded, axis=0)
    span = np.where(high > low, high - low, 1.0)
    scaled = (encoded - low) / span
    imputer = LMRBMImputer(n_components=64, n_epochs=300, batch_size=32, random_state=seed)
    filled = imputer.fit_transform(scaled) * span + low
    return encoding.decode(filled)


def _hyperimpute(plugin):
    def make(seed):
        import torch
        from hyperimpute.plugins.imputers import Imputers

        torch.set_num_threads(1)
        _hyperimpute_sklearn_compat()
        return _HyperImputeAdapter(Imputers().get(plugin, random_state=seed))
    return via_ordinal(make)


def _hyperimpute_sklearn_compat():
    """Let hyperimpute 0.1.17's logistic-regression plugin (its iterative imputers'
    classifier for categorical columns) build on scikit-learn >= 1.8.

    The plugin passes ``multi_class="auto"``, an argument scikit-learn 1.8 removed;
    "auto" is what scikit-learn now always does (multinomial for more than two classes
    with lbfgs, binary otherwise), so the argument is dropped.  The plugin imports
    ``sklearn.linear_model.LogisticRegression`` when hyperimpute loads it, hence the
    package attribute is replaced (scikit-learn's own modules import the class from
    ``sklearn.linear_model._logistic`` and are unaffected)."""
    import inspect

    import sklearn.linear_model

    original = sklearn.linear_model.LogisticRegression
    if not isinstance(original, type) or "multi_class" in inspect.signature(original).parameters:
        return

    def LogisticRegression(*args, multi_class="auto", **kwargs):  # noqa: N802
        if multi_class != "auto":
            raise ValueError(f"multi_class={multi_class!r} is gone from scikit-learn")
        return original(*args, **kwargs)

    sklearn.linear_model.LogisticRegression = LogisticRegression


class _HyperImputeAdapter:
    """A HyperImpute plugin behind ``fit_transform(array) -> array``."""

    def __init__(self, plugin):
        self.plugin = plugin

    def fit_transform(self, array):
        return np.asarray(self.plugin.fit_transform(pd.DataFrame(array)), dtype=float)


def _as_frame(filled, X_missing, table):
    if isinstance(filled, pd.DataFrame):
        return filled.reset_index(drop=True)
    frame = pd.DataFrame(filled, columns=X_missing.columns)
    for column in table.numeric:
        frame[column] = frame[column].astype(float)
    return frame


HYPERIMPUTE_PREFIX = "hyperimpute_"
METHODS = {
    "mean": _mean,
    "knn": via_one_hot(_knn),
    "ice_bayesridge": via_ordinal(_ice_bayesridge),
    "ice_extratrees": via_ordinal(_ice_extratrees(ET_TREES)),
    "ice_extratrees50": via_ordinal(_ice_extratrees(50)),
    "ice_extratrees_full": via_ordinal(_ice_extratrees(100, max_iter=10)),
    "tabular_rbm": _tabular_rbm,
    "lmrbm_minmax": _lmrbm_minmax,
}


def method(name):
    if name in METHODS:
        return METHODS[name]
    if name.startswith(HYPERIMPUTE_PREFIX):
        return _hyperimpute(name[len(HYPERIMPUTE_PREFIX):])
    raise ValueError(f"unknown method {name!r}; known: {', '.join(METHODS)}, "
                     f"{HYPERIMPUTE_PREFIX}<plugin>")


# ---------------------------------------------------------------- scoring

def numeric_rmse(X_true, X_filled, mask, table):
    columns = [X_true.columns.get_loc(c) for c in table.numeric]
    holes = mask[:, columns]
    if not holes.any():
        return float("nan"), 0
    truth = X_true[table.numeric].to_numpy(dtype=float)[holes]
    guess = X_filled[table.numeric].to_numpy(dtype=float)[holes]
    if not np.isfinite(guess).all():
        raise ValueError("the imputation left non-finite numeric values")
    return float(np.sqrt(np.mean((truth - guess) ** 2))), int(holes.sum())


def categorical_accuracy(X_true, X_filled, mask, table):
    hits, total = 0, 0
    for column in table.categorical:
        holes = mask[:, X_true.columns.get_loc(column)]
        truth = X_true[column].astype(str).to_numpy()[holes]
        guess = X_filled[column].astype(str).to_numpy()[holes]
        hits += int((truth == guess).sum())
        total += int(holes.sum())
    return (hits / total if total else float("nan")), total


def check_observed_kept(X_missing, X_filled):
    for column in X_missing.columns:
        observed = X_missing[column].notna().to_numpy()
        given = X_missing[column].to_numpy()[observed]
        returned = X_filled[column].to_numpy()[observed]
        if isinstance(X_missing[column].dtype, pd.CategoricalDtype):
            same = given.astype(str) == returned.astype(str)
        else:
            same = np.isclose(given.astype(float), returned.astype(float), rtol=1e-6, atol=1e-6)
        if not same.all():
            raise AssertionError(f"column {column!r}: observed entries changed")


# ---------------------------------------------------------------- running

def commit():
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, cwd=Path(__file__).parent, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def done_cells(path):
    if not Path(path).exists():
        return set()
    with open(path, newline="") as f:
        return {(r["table"], r["mechanism"], r["rate"], r["seed"], r["method"])
                for r in csv.DictReader(f)}


class FitOverBudget(Exception):
    """A fit ran past ``--max-fit-cpu-s``."""


@contextlib.contextmanager
def cpu_budget(seconds):
    """Raise :class:`FitOverBudget` in the block once this process has spent ``seconds``
    of CPU time in it (``None``: no limit).  The profiling timer counts process CPU
    time; the exception comes when the interpreter next runs Python code, at most one
    compiled call (a tree fit, a solver step) late."""
    if seconds is None:
        yield
        return

    def over(signum, frame):
        raise FitOverBudget

    previous = signal.signal(signal.SIGPROF, over)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.signal(signal.SIGPROF, previous)


def run(args):
    done = done_cells(args.csv)
    over_budget = set()  # (table, method): a fit there ran past --max-fit-cpu-s
    revision = commit()
    if any(m in ("tabular_rbm", "lmrbm_minmax") for m in args.methods):
        # import torch before the first timed fit, so that its seconds are the fit's
        import skrbm_impute  # noqa: F401
        import torch  # noqa: F401
    plugins = [m[len(HYPERIMPUTE_PREFIX):] for m in args.methods
               if m.startswith(HYPERIMPUTE_PREFIX)]
    if plugins:
        # likewise: hyperimpute (with TensorFlow) and each plugin's module load untimed
        from hyperimpute.plugins.imputers import Imputers

        _hyperimpute_sklearn_compat()
        for plugin in plugins:
            Imputers().get(plugin)
    for name in args.tables:
        table = load_table(name)
        X = standardised(table)
        for mechanism in args.mechanisms:
            for rate in args.rates:
                for seed in args.seeds:
                    todo = [m for m in args.methods
                            if (name, mechanism, str(rate), str(seed), m) not in done
                            and (name, m) not in over_budget]
                    if not todo:
                        continue
                    mask = draw_mask(table, mechanism, rate, seed)
                    X_missing = hide(X, mask)
                    reference, _ = numeric_rmse(X, _mean(X_missing, table, seed), mask, table)
                    for method_name in todo:
                        impute = method(method_name)
                        wall, cpu = time.perf_counter(), time.process_time()
                        try:
                            with warnings.catch_warnings(), cpu_budget(args.max_fit_cpu_s):
                                warnings.simplefilter("ignore")
                                X_filled = impute(X_missing, table, seed)
                        except FitOverBudget:
                            # no row; the method's other cells of this table are skipped
                            over_budget.add((name, method_name))
                            print(json.dumps({
                                "table": name, "mechanism": mechanism, "rate": rate,
                                "seed": seed, "method": method_name,
                                "stopped": f"over {args.max_fit_cpu_s:g} CPU s",
                                "wall_s": round(time.perf_counter() - wall, 3)}), flush=True)
                            continue
                        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                        check_observed_kept(X_missing, X_filled)
                        error, n_numeric = numeric_rmse(X, X_filled, mask, table)
                        accuracy, n_categorical = categorical_accuracy(X, X_filled, mask, table)
                        row = {"table": name, "mechanism": mechanism, "rate": rate,
                               "seed": seed, "method": method_name,
                               "realised_rate": round(float(mask.mean()), 5),
                               "n_numeric_holes": n_numeric,
                               "n_categorical_holes": n_categorical,
                               "rmse": round(error, 6), "rmse_mean": round(reference, 6),
                               "ratio": round(error / reference, 6),
                               "accuracy": round(accuracy, 6),
                               "wall_s": round(wall, 3), "cpu_s": round(cpu, 3),
                               "commit": revision,
                               "load": round(os.getloadavg()[0], 2)}
                        append_row(args.csv, row, FIELDS)
                        print(json.dumps(row), flush=True)
                        if (method_name == "tabular_rbm" and args.coverage_csv
                                and rate == args.coverage_rate and seed in args.coverage_seeds):
                            from tabular_multiple_imputation import rbm_coverage_row

                            coverage = rbm_coverage_row(_tabular_rbm.fitted, table, X,
                                                        X_missing, mask, mechanism, rate, seed,
                                                        reference, wall, cpu)
                            append_row(args.coverage_csv, coverage)
                            print(json.dumps(coverage), flush=True)


# ---------------------------------------------------------------- summary

ORDER = ["mean", "knn", "ice_bayesridge", "ice_extratrees", "ice_extratrees50",
         "ice_extratrees_full", "tabular_rbm", "tabular_rbm_v3", "tabular_rbm_v2",
         "lmrbm_minmax"]


def ordered(methods):
    known = [m for m in ORDER if m in methods]
    return known + sorted(m for m in methods if m not in ORDER)


def geometric_mean(values):
    values = np.asarray(values, dtype=float)
    return float(np.exp(np.mean(np.log(values))))


def markdown_table(header, rows):
    first = "| " + " | ".join(header) + " |"
    lines = [first, table_rule(first)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize(paths, out=None, methods=None):
    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    frame = frame.drop_duplicates(["table", "mechanism", "rate", "seed", "method"], keep="last")
    methods = ordered(methods or frame["method"].unique())
    frame = frame[frame["method"].isin(methods)]
    tables = [t for t in TABLE_NAMES if t in set(frame["table"])]
    settings = [(m, r) for m in ("MCAR", "MAR") for r in sorted(frame["rate"].unique())
                if ((frame["mechanism"] == m) & (frame["rate"] == r)).any()]
    text = []

    def cell(values):
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        if values.size == 0:
            return "-"
        se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
        return f"{values.mean():.3f} ± {se:.3f}" + ("" if values.size >= 5 else f" (n={values.size})")

    text.append("## RMSE / mean imputation's (numeric cells), geometric mean over tables\n")
    rows = []
    for mechanism, rate in settings:
        part = frame[(frame["mechanism"] == mechanism) & (frame["rate"] == rate)]
        row = [f"{mechanism} {rate:g}"]
        for m in methods:
            per_table = part[part["method"] == m].groupby("table")["ratio"].mean()
            complete = len(per_table) == len(tables)
            row.append(f"{geometric_mean(per_table):.3f}" + ("" if complete else
                       f" ({len(per_table)}/{len(tables)} tables)") if len(per_table) else "-")
        rows.append(row)
    text.append(markdown_table(["mechanism, rate"] + methods, rows))
    text.append("\nPer table: mean ± standard error over the seeds of the per-seed ratio; "
                "the geometric mean is over the tables' seed means.\n")

    contenders = [m for m in ("knn", "ice_bayesridge", "ice_extratrees", "tabular_rbm")
                  if m in methods]
    text.append("\n## Wins per table (lowest seed-mean ratio) among "
                f"{', '.join(contenders)}, settings where all ran\n")
    wins = {m: 0 for m in contenders}
    for (mechanism, rate) in settings:
        part = frame[(frame["mechanism"] == mechanism) & (frame["rate"] == rate)]
        means = part.groupby(["table", "method"])["ratio"].mean().unstack()
        means = means[[m for m in contenders if m in means]].dropna()
        if means.shape[1] < len(contenders):
            continue
        for best in means.idxmin(axis=1):
            wins[best] += 1
    text.append(markdown_table(["method", "table x setting wins"],
                               [[m, wins[m]] for m in contenders]))

    for mechanism, rate in settings:
        part = frame[(frame["mechanism"] == mechanism) & (frame["rate"] == rate)]
        text.append(f"\n## {mechanism}, rate {rate:g}: RMSE / mean imputation's\n")
        rows = []
        for t in tables:
            sub = part[part["table"] == t]
            rows.append([t] + [cell(sub[sub["method"] == m]["ratio"]) for m in methods])
        text.append(markdown_table(["table"] + methods, rows))

    mixed = [t for t in MIXED_TABLE_NAMES if t in tables]
    if mixed:
        text.append("\n## Categorical cells: share restored exactly (mean ± SE over seeds)\n")
        rows = []
        for t in mixed:
            for mechanism, rate in settings:
                sub = frame[(frame["table"] == t) & (frame["mechanism"] == mechanism)
                            & (frame["rate"] == rate)]
                rows.append([t, f"{mechanism} {rate:g}"]
                            + [cell(sub[sub["method"] == m]["accuracy"]) for m in methods])
        text.append(markdown_table(["table", "setting"] + methods, rows))

    text.append("\n## Seconds per fit_transform (median over settings and seeds; CPU / wall)\n")
    rows = []
    for t in tables:
        sub = frame[frame["table"] == t]
        row = [t]
        for m in methods:
            s = sub[sub["method"] == m]
            row.append(f"{s['cpu_s'].median():.2f} / {s['wall_s'].median():.2f}" if len(s) else "-")
        rows.append(row)
    total = ["total CPU s (all rows)"] + [
        f"{frame[frame['method'] == m]['cpu_s'].sum():.0f}" for m in methods]
    rows.append(total)
    text.append(markdown_table(["table"] + methods, rows))

    text.append("\n## Realised missing rate (share of all cells; over tables and seeds)\n")
    first = frame.drop_duplicates(["table", "mechanism", "rate", "seed"])
    rows = []
    for mechanism, rate in settings:
        s = first[(first["mechanism"] == mechanism) & (first["rate"] == rate)]["realised_rate"]
        rows.append([f"{mechanism} {rate:g}", f"{s.mean():.3f}", f"{s.min():.3f}",
                     f"{s.max():.3f}", len(s)])
    text.append(markdown_table(["setting", "mean", "min", "max", "masks"], rows))
    text.append(f"\nCommits of the rows: {', '.join(sorted(frame['commit'].astype(str).unique()))}; "
                f"load average (1 min) at the rows: median {frame['load'].median():.1f}, "
                f"max {frame['load'].max():.1f}.\n")
    result = "\n".join(text)
    if out:
        Path(out).write_text(result + "\n")
    print(result)
    return frame


def plot(paths, out, methods=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    frame = pd.concat([pd.read_csv(p) for p in paths], ignore_index=True)
    frame = frame.drop_duplicates(["table", "mechanism", "rate", "seed", "method"], keep="last")
    methods = [m for m in ordered(methods or frame["method"].unique())
               if m in ("knn", "ice_bayesridge", "ice_extratrees", "tabular_rbm")]
    n_tables = frame["table"].nunique()
    figure, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
    for axis, mechanism in zip(axes, ("MCAR", "MAR")):
        part = frame[frame["mechanism"] == mechanism]
        for m in methods:
            rates, values = [], []
            for rate, sub in part[part["method"] == m].groupby("rate"):
                if sub["table"].nunique() < n_tables:
                    continue  # a mean over fewer tables is not comparable
                rates.append(rate)
                values.append(geometric_mean(sub.groupby("table")["ratio"].mean()))
            axis.plot(rates, values, marker="o", label=m)
        axis.axhline(1.0, color="grey", lw=0.8, ls="--")
        axis.set_title(f"{mechanism}")
        axis.set_xlabel("missing rate")
    axes[0].set_ylabel(f"RMSE / mean imputation\n(geometric mean over {n_tables} tables)")
    axes[1].legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(out, dpi=110)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", nargs="+", default=list(TABLE_NAMES))
    parser.add_argument("--mechanisms", nargs="+", default=["MCAR", "MAR"])
    parser.add_argument("--rates", type=float, nargs="+", default=[0.1, 0.3, 0.5])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--methods", nargs="+", default=["mean", "knn", "ice_bayesridge",
                                                         "ice_extratrees", "tabular_rbm"])
    parser.add_argument("--csv", default=str(RESULTS / "results.csv"))
    parser.add_argument("--coverage-csv", default=str(
        RESULTS.parent / "tabular_multiple_imputation" / "coverage.csv"),
        help="TabularRBMImputer's fits at --coverage-rate and --coverage-seeds also draw "
             "20 multiple imputations, scored here (tabular_multiple_imputation.py's "
             "coverage study, same masks); '' to skip")
    parser.add_argument("--coverage-rate", type=float, default=0.3)
    parser.add_argument("--coverage-seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--max-fit-cpu-s", type=float, default=None,
                        help="stop a fit past this many CPU seconds and skip the method's "
                             "other cells of that table (no row written for them)")
    parser.add_argument("--summarize", metavar="CSV", nargs="+")
    parser.add_argument("--markdown", default=None, help="with --summarize: also write here")
    parser.add_argument("--plot", default=None, help="with --summarize: the figure's path")
    parser.add_argument("--summary-methods", nargs="+", default=None)
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize, args.markdown, args.summary_methods)
        if args.plot:
            plot(args.summarize, args.plot, args.summary_methods)
    else:
        run(args)


if __name__ == "__main__":
    main()
