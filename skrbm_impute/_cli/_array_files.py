"""The ``impute`` command's array files: ``.npy`` and comma-separated ``.csv``.

A ``.csv`` reads as :func:`pandas.read_csv` reads it with its defaults (its missing
tokens, its number syntax, UTF-8 with or without a byte-order mark, blank lines
skipped), without needing pandas; where this reader is stricter it says so in the
README's section on the ``impute`` command's files.  Every error names the file (and,
for a ``.csv``, the line and column).
"""

import csv
import re
import sys
from pathlib import Path

import numpy as np

#: Tokens read as missing in a .csv: pandas.read_csv's default ``na_values``
#: (``pandas._libs.parsers.STR_NA_VALUES``), matched exactly as pandas does (``" NA"``
#: and ``"NAN"`` are not missing tokens: they are errors).
CSV_MISSING_TOKENS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})

#: The numbers pandas' C parser reads: ASCII digits, an optional sign, decimal point
#: and exponent, surrounded by optional ASCII white space (no ``_`` separators, no
#: ``nan``/``inf`` spelled differently, no hexadecimal).
_NUMBER = re.compile(r"[ \t\n\v\f\r]*[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?"
                     r"[ \t\n\v\f\r]*")
#: The infinities pandas accepts (case-insensitive, no surrounding space).
_INFINITIES = {"inf": np.inf, "+inf": np.inf, "infinity": np.inf, "+infinity": np.inf,
               "-inf": -np.inf, "-infinity": -np.inf}


class InputData:
    """An input file's array, as read.

    Attributes
    ----------
    X : ndarray of shape (n_rows, n_features)
        The values, 2-D for the imputer (NaN = missing).
    shape : tuple of int
        The file's own shape (1-D, 2-D or 3-D images), restored on output.
    header : list of str or None
        The CSV header line, ``None`` when there is none.
    """

    def __init__(self, X, shape, header=None):
        self.X, self.shape, self.header = X, shape, header


def csv_value(token):
    """A CSV token as pandas' ``read_csv`` reads it: a float, NaN when it is a missing
    token, or ``None`` when it is neither a number nor a missing token."""
    if token in CSV_MISSING_TOKENS:
        return np.nan
    if _NUMBER.fullmatch(token):
        return float(token)
    return _INFINITIES.get(token.lower())


def read_input(path):
    """Read a .npy or .csv input file into :class:`InputData`.

    .npy: real numbers (bool, int or float; complex, object and text arrays are
    refused), 1-D (one row), 2-D (rows) or 3-D (images, flattened for the imputer and
    restored on output).  .csv: comma-separated numbers; an empty field or a token of
    :data:`CSV_MISSING_TOKENS` is missing; a first line holding a token that is
    neither is a header; any other non-numeric token is an error naming its line and
    column.  Both: at least one row; infinite values are refused (NaN marks missing).

    Raises
    ------
    ValueError
        One line naming the file (and the line and column of a bad CSV token).
    """
    path = Path(path)
    if path.suffix == ".npy":
        X = _read_npy(path)
        header = None
    elif path.suffix == ".csv":
        X, header = _read_csv(path)
    else:
        raise ValueError(f"{path}: expected a .npy or .csv file.")
    shape = X.shape
    if X.ndim not in (1, 2, 3):
        raise ValueError(
            f"{path}: expected a 1-D, 2-D or 3-D (n, H, W) array; got shape {X.shape}."
        )
    if X.size == 0:
        raise ValueError(f"{path}: no values to impute (shape {shape}).")
    if X.ndim == 1:
        X = X[None, :]
    elif X.ndim == 3:
        X = X.reshape(len(X), -1)
    return InputData(X, shape, header)


def _read_npy(path):
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise ValueError(f"{path}: not a NumPy .npy file (it does not start with the .npy "
                         "magic bytes).")
    try:
        X = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle, which is never allowed here
        raise ValueError(f"{path}: cannot read it without unpickling ({exc}).") from exc
    if np.iscomplexobj(X):
        raise ValueError(f"{path}: a complex array ({X.dtype}); the imputers take real "
                         "numbers (pass X.real or np.abs(X) yourself).")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected real numbers; got dtype {X.dtype}.")
    X = np.asarray(X, dtype=np.float64)
    infinite = np.isinf(X)
    if infinite.any():
        first = tuple(int(i) for i in np.argwhere(infinite)[0])
        raise ValueError(f"{path}: {int(infinite.sum())} infinite value(s), the first at "
                         f"index {first}; the imputers take finite numbers (NaN marks a "
                         "missing entry).")
    return X


def _decode(path):
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")  # Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise ValueError(f"{path}, line {line}: not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                         "save the file as UTF-8.") from None


def _csv_rows(path):
    """``(line number, fields)`` of every row that is not blank (as pandas skips them)."""
    import io

    limit = csv.field_size_limit()
    csv.field_size_limit(sys.maxsize)  # pandas has no field size limit
    try:
        reader = csv.reader(io.StringIO(_decode(path), newline=""))
        rows = []
        try:
            for row in reader:
                if not row or (len(row) == 1 and row[0] and not row[0].strip()):
                    continue
                rows.append((reader.line_num, row))
        except csv.Error as exc:
            raise ValueError(f"{path}, line {reader.line_num}: {exc}.") from None
    finally:
        csv.field_size_limit(limit)
    return rows


def _read_csv(path):
    rows = _csv_rows(path)
    if not rows:
        raise ValueError(f"{path}: empty file.")
    header = None
    if any(csv_value(token) is None for token in rows[0][1]):
        header, rows = rows[0][1], rows[1:]
    width = len(header) if header is not None else len(rows[0][1])
    values = []
    for number, row in rows:
        parsed = [csv_value(token) for token in row]
        for column, (token, value) in enumerate(zip(row, parsed), start=1):
            if value is None:
                raise ValueError(
                    f"{path}, line {number}, column {column}: {_shown(token)} is neither a "
                    "number nor a missing-value token (empty, NaN, NA, N/A, null, None, ...)."
                )
            if np.isinf(value):
                raise ValueError(
                    f"{path}, line {number}, column {column}: {_shown(token)} is infinite; "
                    "the imputers take finite numbers (an empty field marks a missing entry)."
                )
        if len(parsed) != width:
            raise ValueError(f"{path}, line {number}: {len(parsed)} fields, but the "
                             f"{'header' if header is not None else 'first row'} has {width}.")
        values.append(parsed)
    if not values:
        raise ValueError(f"{path}: no data rows.")
    return np.array(values, dtype=np.float64), header


def _shown(token, limit=40):
    """``repr(token)``, shortened: a 200,000-character field stays one readable line."""
    if len(token) <= limit:
        return repr(token)
    return f"{token[:limit]!r}... ({len(token)} characters)"


def write_array(path, X, header=None):
    """Write ``X`` as .npy or .csv (with ``header`` as its first line when given).

    CSV values are written as Python's shortest round-trip ``repr``, so they read back
    bit-identical.
    """
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, X)
    elif path.suffix == ".csv":
        with open(path, "w", newline="") as f:
            if header is not None:
                csv.writer(f, lineterminator="\n").writerow(header)
            for row in np.atleast_2d(X).tolist():
                f.write(",".join(map(repr, row)) + "\n")
    else:
        raise ValueError(f"{path}: the output must be a .npy or .csv file.")
