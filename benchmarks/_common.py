"""Helpers shared by the benchmark scripts: CSV rows, markdown tables, timing, and the
5,000 / 5,000 protocol of the untrained imputers on the real MNIST test digits.

The scripts run as ``python benchmarks/NAME.py``, so this folder is on ``sys.path``
and they import it as ``from _common import ...``.
"""

import csv
import os
import statistics
import time

from skrbm_impute import DiffusionInpaintImputer, MeanImputer, apply_mask, make_mask
from skrbm_impute.metrics import rmse


def append_row(path, row, fieldnames=None):
    """Append the dict ``row`` to the CSV file ``path``, writing the header
    (``fieldnames``, default: the row's keys) first when the file does not exist yet, so
    a resumed study keeps one file; the file's folder is created if missing."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    new = not os.path.exists(path)
    with open(path, "a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=fieldnames or list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def emit_table(lines, markdown=None):
    """Print the markdown table ``lines`` and, when ``markdown`` names a file, write it
    there too (with a final newline)."""
    text = "\n".join(lines)
    print(text)
    if markdown:
        with open(markdown, "w") as f:
            f.write(text + "\n")


def table_rule(header):
    """The markdown separator row under ``header`` (``"| a | b |"`` -> ``"| --- | --- |"``)."""
    return "|" + " --- |" * (header.count("|") - 1)


def add_summary_options(parser):
    """``--summarize CSV...`` (tabulate earlier results instead of measuring) and
    ``--markdown FILE`` (with it, also write the table there)."""
    parser.add_argument("--summarize", metavar="CSV", nargs="+")
    parser.add_argument("--markdown", default=None, help="with --summarize: also write here")


def timed(function, clock=time.perf_counter):
    """``(function(), seconds)``: one call, timed with ``clock`` (wall clock by default,
    ``time.process_time`` for CPU time)."""
    start = clock()
    value = function()
    return value, clock() - start


def median_seconds(function, repeats, clock=time.perf_counter):
    """``(median seconds, last value)`` of ``repeats`` calls of ``function``."""
    times = []
    for _ in range(repeats):
        value, seconds = timed(function, clock)
        times.append(seconds)
    return statistics.median(times), value


def masked_halves(X, mechanism, rate, train_seed, test_seed, n_fit=5000, **geometry):
    """The paper's split of the 10,000 MNIST test digits: the first ``n_fit`` (masked
    with ``train_seed``) fit the imputers, the rest (masked with ``test_seed``) are
    scored.  ``geometry`` goes to ``make_mask`` (P.M. patches).

    Returns ``(clean test digits, masked training digits, masked test digits, test
    mask)``.
    """
    train, test = X[:n_fit], X[n_fit:]
    train_mask = make_mask(mechanism, len(train), (28, 28), rate, random_state=train_seed,
                           **geometry)
    test_mask = make_mask(mechanism, len(test), (28, 28), rate, random_state=test_seed,
                          **geometry)
    return test, apply_mask(train, train_mask), apply_mask(test, test_mask), test_mask


def untrained_scores(X, y, halves, accuracy=False, max_iter=500):
    """Mean and diffusion RMSE on the masked test half, and with ``accuracy`` the
    accuracy (%) of a logistic regression fit on the Mean-imputed training half and
    scored on the Mean-imputed test half.

    ``halves`` is what :func:`masked_halves` returns.
    """
    from sklearn.linear_model import LogisticRegression

    test, X_train, X_test, test_mask = halves
    mean = MeanImputer().fit(X_train)
    mean_test = mean.transform(X_test)
    diffused = DiffusionInpaintImputer().fit(X_test).transform(X_test)
    out = {"mean": rmse(test, mean_test, test_mask),
           "diffusion": rmse(test, diffused, test_mask)}
    if accuracy:
        n_fit = len(X_train)
        classifier = LogisticRegression(max_iter=max_iter).fit(mean.transform(X_train),
                                                               y[:n_fit])
        out["accuracy"] = 100 * classifier.score(mean_test, y[n_fit:])
    return out
