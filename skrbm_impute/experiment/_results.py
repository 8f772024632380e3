"""The tidy results file, its summaries (mean and standard error over repeat pairs) and
the Table-1-style markdown tables."""

import csv
import io
import math
import os
from pathlib import Path

import numpy as np
import pandas as pd

from ..masks import MECHANISMS
from ._methods import method_label

COLUMNS = ("method", "mechanism", "rate", "train_repeat", "test_repeat", "metric", "value")
CELL = ("method", "mechanism", "rate", "train_repeat")

MECHANISM_LABELS = {"IM": "I.M.", "SO": "S.O.", "PM": "P.M."}


def mechanism_rank(mechanism):
    """Sort key: the paper's order of ``masks.MECHANISMS``, unknown names last."""
    return MECHANISMS.index(mechanism) if mechanism in MECHANISMS else len(MECHANISMS)

#: Metric -> (title, lower is better, decimals).
METRICS = {
    "rmse": ("RMSE", True, 3),
    "fid": ("FID", True, 2),
    "accuracy": ("Accuracy (%)", False, 1),
    "hidden_accuracy": ("RBM-hidden accuracy (%)", False, 1),
    "fit_seconds": ("Fit time (s)", True, 1),
}

RMSE_FID_ACCURACY = ("rmse", "fid", "accuracy", "hidden_accuracy")


class ResultsFile:
    """``results.csv``: one row per method, mechanism, rate, repeat pair and metric.

    Rows of one cell are appended with a single ``write`` on a file opened for
    appending, so a run killed at any moment leaves whole cells behind (a torn last
    line, possible only on a crash of the machine, is dropped when read).
    """

    def __init__(self, path):
        self.path = Path(path)

    def append(self, rows):
        """Append rows (tuples in :data:`COLUMNS` order) in one write."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not self.path.exists() or self.path.stat().st_size == 0:
            writer.writerow(COLUMNS)
        for method, mechanism, rate, train_repeat, test_repeat, metric, value in rows:
            writer.writerow(
                (method, mechanism, repr(float(rate)), int(train_repeat), int(test_repeat),
                 metric, repr(float(value)))
            )
        data = buffer.getvalue().encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self):
        """The results as a DataFrame with :data:`COLUMNS` (empty when no file)."""
        if not self.path.exists():
            return _empty_frame()
        records = []
        with open(self.path, newline="") as f:
            for row in csv.reader(f):
                record = _parse_row(row)
                if record is not None:
                    records.append(record)
        if not records:
            return _empty_frame()
        return pd.DataFrame.from_records(records, columns=COLUMNS)

    def rewrite(self, frame):
        """Replace the file by ``frame``'s rows (used to drop incomplete cells)."""
        tmp = self.path.with_suffix(".csv.tmp")
        frame.loc[:, list(COLUMNS)].to_csv(tmp, index=False)
        os.replace(tmp, self.path)


def _parse_row(row):
    if len(row) != len(COLUMNS) or row[0] == "method":
        return None
    try:
        return (row[0], row[1], float(row[2]), int(row[3]), int(row[4]), row[5], float(row[6]))
    except ValueError:
        return None


def _empty_frame():
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in COLUMNS})
    return frame.astype({"rate": float, "train_repeat": int, "test_repeat": int, "value": float})


def finished_cells(frame, n_test_repeats):
    """Cells whose RMSE rows cover every test repeat ``0 .. n_test_repeats - 1``."""
    rmse = frame[frame["metric"] == "rmse"]
    done = set()
    for key, group in rmse.groupby(list(CELL)):
        if set(range(n_test_repeats)) <= set(group["test_repeat"]):
            done.add((key[0], key[1], float(key[2]), int(key[3])))
    return done


def cell_key(method, mechanism, rate, train_repeat):
    return (method, mechanism, float(rate), int(train_repeat))


def read_results(path):
    """Read ``results.csv`` (or the folder holding it) into a DataFrame."""
    path = Path(path)
    if path.is_dir():
        path = path / "results.csv"
    if not path.exists():
        raise FileNotFoundError(f"No results file at {path}.")
    return ResultsFile(path).read()


def summarize(frame):
    """Mean, standard error and count of every metric over the repeat pairs.

    The standard error is the sample standard deviation over the repeat pairs divided
    by the square root of their number (NaN with a single pair).
    """
    grouped = frame.groupby(["method", "mechanism", "rate", "metric"])["value"]
    summary = grouped.agg(["mean", "std", "count"]).reset_index()
    summary["se"] = summary["std"] / np.sqrt(summary["count"])
    return summary.drop(columns="std")


def ratios_to(frame, reference="mean"):
    """Each method's metric divided by ``reference``'s on the same masks, per repeat
    pair, then the mean and standard error of that ratio (spec section 6)."""
    keys = ["mechanism", "rate", "train_repeat", "test_repeat", "metric"]
    wide = frame.pivot_table(index=keys, columns="method", values="value", aggfunc="first")
    if reference not in wide.columns:
        columns = ["method", "mechanism", "rate", "metric", "mean", "count", "se"]
        return pd.DataFrame(columns=columns)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = wide.div(wide[reference], axis=0)
    ratio = ratio.reset_index().melt(id_vars=keys, var_name="method", value_name="value")
    ratio = ratio.dropna(subset=["value"])
    ratio = ratio[np.isfinite(ratio["value"])]
    return summarize(ratio)


def ordered_methods(names, config_methods=None):
    """Methods in the preset's order, then the paper's, then alphabetical."""
    from ._methods import METHODS

    order = list(config_methods or []) + list(METHODS)
    rank = {name: i for i, name in enumerate(dict.fromkeys(order))}
    return sorted(set(names), key=lambda name: (rank.get(name, len(rank)), name))


def format_value(mean, se, decimals):
    """``"0.257 ± 0.003"``; the mean alone when the standard error is unknown."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return ""
    if se is None or (isinstance(se, float) and math.isnan(se)):
        return f"{mean:.{decimals}f}"
    return f"{mean:.{decimals}f} ± {se:.{decimals}f}"


def markdown_table(summary, metric, *, methods=None, params=None, decimals=None):
    """One markdown table of ``metric``: rows mechanism and rate, columns methods."""
    part = summary[summary["metric"] == metric]
    if part.empty:
        return ""
    title, _, default_decimals = METRICS.get(metric, (metric, True, 3))
    decimals = default_decimals if decimals is None else decimals
    methods = ordered_methods(part["method"], methods)
    labels = [method_label(m, (params or {}).get(m)) for m in methods]
    lines = [f"| {title} | " + " | ".join(labels) + " |", "| --- |" + " ---: |" * len(methods)]
    index = part.set_index(["mechanism", "rate", "method"])
    rows = part[["mechanism", "rate"]].drop_duplicates()
    rows = rows.assign(order=rows["mechanism"].map(mechanism_rank))
    rows = rows.sort_values(["order", "rate"])[["mechanism", "rate"]]
    for mechanism, rate in rows.itertuples(index=False):
        cells = []
        for method in methods:
            key = (mechanism, rate, method)
            if key in index.index:
                entry = index.loc[key]
                cells.append(format_value(float(entry["mean"]), float(entry["se"]), decimals))
            else:
                cells.append("")
        name = f"{MECHANISM_LABELS.get(mechanism, mechanism)} {rate:g}"
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def summary_markdown(frame, *, methods=None, params=None, title="Results"):
    """The Table-1-style summary: one table per metric, then the ratios to Mean."""
    summary = summarize(frame)
    n_pairs = frame.groupby(list(CELL))["test_repeat"].nunique()
    n_train = frame["train_repeat"].nunique()
    parts = [
        f"# {title}",
        "",
        f"Mean ± standard error over repeat pairs ({n_train} training set(s) x "
        f"{int(n_pairs.max()) if len(n_pairs) else 0} test set(s) per cell); "
        "rate = missing fraction.",
    ]
    for metric in list(RMSE_FID_ACCURACY) + ["fit_seconds"]:
        table = markdown_table(summary, metric, methods=methods, params=params)
        if table:
            parts += ["", table]
    ratios = ratios_to(frame[frame["metric"].isin(RMSE_FID_ACCURACY)])
    if not ratios.empty:
        parts += ["", "## Ratios to the Mean imputer on the same masks"]
        for metric in RMSE_FID_ACCURACY:
            table = markdown_table(ratios, metric, methods=methods, params=params, decimals=3)
            if table:
                parts += ["", table]
    return "\n".join(parts) + "\n"
