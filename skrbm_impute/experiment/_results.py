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

#: The metrics every cell produces; ``accuracy`` joins them when the dataset has labels,
#: ``hidden_accuracy`` when the estimator also has ``transform_hidden``.
BASE_METRICS = ("rmse", "fid", "fit_seconds")


class ResultsFile:
    """``results.csv``: one row per method, mechanism, rate, repeat pair and metric.

    Rows of one cell are appended with a single ``write`` on a file opened for
    appending, so a run killed at any moment leaves whole cells behind.  What a crash
    of the machine, a hand edit or an older version can still leave -- a torn last
    line, unreadable lines, non-finite values, the same row twice -- is dropped by
    :meth:`read` and moved by :meth:`repair` to :attr:`rejected_path`
    (``results.rejected.csv``, only ever appended to), so nothing is lost; the rows of
    cells a resumed run recomputes go there too (:meth:`move_rows`).  In that file each
    batch of moved lines, kept as they were, follows a line ``# <UTC time> <reason>``
    (``pandas.read_csv(path, comment="#", header=None, names=COLUMNS)`` reads its rows
    of seven fields back).
    """

    def __init__(self, path):
        self.path = Path(path)

    @property
    def rejected_path(self):
        """Where :meth:`repair` appends the lines it removes: ``results.rejected.csv``."""
        return self.path.with_name(f"{self.path.stem}.rejected{self.path.suffix}")

    def append(self, rows):
        """Append rows (tuples in :data:`COLUMNS` order) in one write.

        Raises ``ValueError`` (writing nothing) when a value is not finite: such a row
        would count as a finished measurement.
        """
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        if not self.path.exists() or self.path.stat().st_size == 0:
            writer.writerow(COLUMNS)
        for method, mechanism, rate, train_repeat, test_repeat, metric, value in rows:
            if not math.isfinite(float(value)):
                raise ValueError(
                    f"refusing to store {metric}={value!r} for {method} {mechanism} {rate:g} "
                    f"(train repeat {train_repeat}, test repeat {test_repeat}): not finite."
                )
            writer.writerow(
                (method, mechanism, repr(float(rate)), int(train_repeat), int(test_repeat),
                 metric, repr(float(value)))
            )
        _append_bytes(self.path, buffer.getvalue().encode())

    def _scan(self):
        """The clean records and the lines left out: ``(note, lines)`` per kind of
        problem, the lines as read, in file order within a kind."""
        if not self.path.exists():
            return [], []
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        torn = ""
        if text and not text.endswith("\n"):
            cut = text.rfind("\n") + 1
            torn = text[cut:]
            text = text[:cut]
        records, seen = [], set()
        unreadable, non_finite, duplicate = [], [], []
        for line in text.splitlines(keepends=True):
            row = next(csv.reader([line]), [])
            if not row or row == list(COLUMNS):
                continue
            record = _parse_row(row)
            if record is None:
                unreadable.append(line)
            elif not math.isfinite(record[-1]):
                non_finite.append(line)
            elif record[:-1] in seen:
                duplicate.append(line)
            else:
                seen.add(record[:-1])
                records.append(record)
        rejected = [
            (f"dropped {len(unreadable)} unreadable line(s)", unreadable),
            (f"dropped {len(non_finite)} row(s) with a NaN or infinite value (their cells "
             "are recomputed)", non_finite),
            (f"dropped {len(duplicate)} duplicate row(s) (same method, mechanism, rate, "
             "repeat pair and metric as an earlier row; the first is kept)", duplicate),
            (f"dropped a torn last line {torn[:60]!r} (no final newline)",
             [torn + "\n"] if torn else []),
        ]
        return records, [(note, lines) for note, lines in rejected if lines]

    def read(self):
        """The results as a DataFrame with :data:`COLUMNS` (empty when no file).

        Unreadable rows, non-finite values and repeated rows are left out (see
        :meth:`repair`), so no summary counts them.
        """
        records, _ = self._scan()
        if not records:
            return _empty_frame()
        return pd.DataFrame.from_records(records, columns=COLUMNS)

    def check(self):
        """Refuse a file that holds no results, before anything is drawn from it.

        Raises
        ------
        FileNotFoundError
            When there is no file.
        ValueError
            Naming the file and what it lacks: it is empty, its header is not
            :data:`COLUMNS`, or it has no readable row.
        """
        if not self.path.is_file():
            raise FileNotFoundError(f"No results file at {self.path}.")
        text = self.path.read_bytes().decode("utf-8", errors="replace")
        if not text.strip():
            raise ValueError(f"{self.path}: empty file, no results to summarise.")
        header = next(csv.reader([text.splitlines()[0]]), [])
        if header != list(COLUMNS):
            lacking = [name for name in COLUMNS if name not in header]
            raise ValueError(
                f"{self.path}: its header is {','.join(header)!r}, not the results "
                f"columns {','.join(COLUMNS)!r}"
                + (f" (it lacks {', '.join(lacking)})." if lacking else ".")
            )
        records, rejected = self._scan()
        if not records:
            n_rejected = sum(len(lines) for _, lines in rejected)
            raise ValueError(
                f"{self.path}: no readable result rows"
                + (f" ({n_rejected} unreadable line(s))." if n_rejected else
                   " (only the header).")
            )

    def repair(self, echo=print):
        """Rewrite the file without the rows :meth:`read` leaves out, saying what went.

        The removed lines are appended, as they were, to :attr:`rejected_path`, each
        kind below a ``# <UTC time> <note>`` line.  Returns the notes (empty when the
        file was sound and left untouched).
        """
        records, rejected = self._scan()
        if rejected:
            _append_bytes(self.rejected_path, "".join(
                _reason_line(note) + "".join(lines) for note, lines in rejected).encode())
            self.rewrite(pd.DataFrame.from_records(records, columns=COLUMNS)
                         if records else _empty_frame())
            for note, _ in rejected:
                echo(f"Repaired {self.path}: {note}; moved to {self.rejected_path}.")
        return [note for note, _ in rejected]

    def move_rows(self, drop, reason):
        """Move the rows for which ``drop(record)`` is true to :attr:`rejected_path`.

        Parameters
        ----------
        drop : callable
            Takes a record ``(method, mechanism, rate, train_repeat, test_repeat,
            metric, value)``; true for the rows to move.
        reason : str
            Why they go, written on a ``# <UTC time> <reason>`` line above them.

        Returns
        -------
        n_moved : int
            The rows moved.  They are appended first, as they were, then the file is
            rewritten without them (atomically), so a kill in between keeps them in
            both files rather than in neither.
        """
        if not self.path.exists():
            return 0
        kept, moved = [], []
        for line in self.path.read_bytes().decode("utf-8", errors="replace").splitlines(
                keepends=True):
            row = next(csv.reader([line]), [])
            record = _parse_row(row) if row and row != list(COLUMNS) else None
            if record is not None and drop(record):
                moved.append(line if line.endswith("\n") else line + "\n")
            else:
                kept.append(line)
        if moved:
            _append_bytes(self.rejected_path, (_reason_line(reason) + "".join(moved)).encode())
            tmp = self.path.with_suffix(".csv.tmp")
            tmp.write_text("".join(kept))
            os.replace(tmp, self.path)
        return len(moved)

    def rewrite(self, frame):
        """Replace the file by ``frame``'s rows (atomically: a new file, then a rename)."""
        tmp = self.path.with_suffix(".csv.tmp")
        frame.loc[:, list(COLUMNS)].to_csv(tmp, index=False)
        os.replace(tmp, self.path)


def _reason_line(reason):
    """The line above a batch of moved lines in the rejected file: time and reason."""
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
    return f"# {stamp} {' '.join(reason.split())}\n"


def _append_bytes(path, data):
    """Append ``data`` to ``path`` in one write, flushed to disk."""
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def _parse_row(row):
    if len(row) != len(COLUMNS):
        return None
    try:
        return (row[0], row[1], float(row[2]), int(row[3]), int(row[4]), row[5], float(row[6]))
    except ValueError:
        return None


def _empty_frame():
    frame = pd.DataFrame({name: pd.Series(dtype=object) for name in COLUMNS})
    return frame.astype({"rate": float, "train_repeat": int, "test_repeat": int, "value": float})


def finished_cells(frame, n_test_repeats, expected_metrics=None):
    """Cells holding every metric their method produces for every test repeat.

    Parameters
    ----------
    frame : DataFrame
        The results.
    n_test_repeats : int
        Test repeats ``0 .. n_test_repeats - 1`` a finished cell covers.
    expected_metrics : dict, optional
        Method -> the metrics its cells must hold; methods not in it need
        :data:`BASE_METRICS`.

    Returns
    -------
    done : set of tuple
        The :func:`cell_key` of every finished cell.
    """
    expected_metrics = expected_metrics or {}
    done = set()
    for key, group in frame.groupby(list(CELL)):
        needed = set(expected_metrics.get(key[0], BASE_METRICS))
        present = set(zip(group["test_repeat"], group["metric"]))
        if all((t, m) in present for t in range(n_test_repeats) for m in needed):
            done.add(cell_key(*key))
    return done


def cell_key(method, mechanism, rate, train_repeat):
    return (method, mechanism, float(rate), int(train_repeat))


def read_results(path):
    """Read ``results.csv`` (or the folder holding it) into a DataFrame.

    Lines that are not results (torn, unreadable, non-finite, repeated) are left out;
    :meth:`ResultsFile.check` refuses a file with no results at all.

    Parameters
    ----------
    path : str or path-like
        ``results.csv`` or the results folder holding it.

    Returns
    -------
    results : pandas.DataFrame
        One row per result: the cell's keys, ``metric`` and ``value``.
    """
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

    Parameters
    ----------
    frame : pandas.DataFrame
        Results as :func:`read_results` returns them.

    Returns
    -------
    summary : pandas.DataFrame
        One row per method, mechanism, rate and metric, with columns ``mean``, ``count``
        and ``se``.
    """
    grouped = frame.groupby(["method", "mechanism", "rate", "metric"])["value"]
    summary = grouped.agg(["mean", "std", "count"]).reset_index()
    summary["se"] = summary["std"] / np.sqrt(summary["count"])
    return summary.drop(columns="std")


def ratios_to(frame, reference="mean"):
    """Each method's metric divided by ``reference``'s on the same masks, per repeat
    pair, then the mean and standard error of that ratio."""
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


def read_run_config(path):
    """A results folder's ``config.json`` as a dict (``{}`` when there is none).

    Raises
    ------
    ValueError
        Naming the file when it is not a JSON object.
    """
    import json

    path = Path(path)
    if not path.exists():
        return {}
    try:
        config = json.loads(path.read_bytes().decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"{path}: damaged, not valid JSON ({exc}); delete it or restore "
                         "it from a copy.") from None
    if not isinstance(config, dict):
        raise ValueError(f"{path}: damaged, a JSON {type(config).__name__} instead of the "
                         "run's settings; delete it or restore it from a copy.")
    return config
