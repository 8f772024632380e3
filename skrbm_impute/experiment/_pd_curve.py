"""The benchmark's perception-distortion curves: each RBM along its perception knob.

With the preset key ``perception_levels = [0, 0.25, 0.5, 0.75, 1]`` every cell of a
method whose estimator has a ``perception`` parameter (the two RBM imputers) also
imputes each test set at every level, **reusing the cell's fitted model** (only
``transform`` runs), and scores RMSE and FID there.  The points go to ``results.csv``
as rows of the same cell with the metrics ``rmse@p=<level>`` and ``fid@p=<level>``, so
a run that stops resumes as before (a cell's rows are written together) and the
summary tables, which read ``rmse`` and ``fid``, are unchanged.
:func:`~._plots.plot_pd_curve` draws them as ``pd_curve.png``.
"""

import re

from ..metrics import rmse
from . import _scoring

#: Metric names of a curve point: ``rmse@p=0.25``.
_POINT = re.compile(r"^(rmse|fid)@p=(.+)$")


def curve_metric(metric, level):
    """The results.csv metric name of a curve point.

    Parameters
    ----------
    metric : {"rmse", "fid"}
    level : float
        The perception level.

    Returns
    -------
    name : str
        For example ``"rmse@p=0.25"``.
    """
    return f"{metric}@p={float(level):g}"


def check_levels(levels):
    """Check the preset key ``perception_levels``.

    Parameters
    ----------
    levels : list of float
        Distinct numbers in [0, 1]; empty draws no curve.

    Raises
    ------
    ValueError
        Naming the offending value.
    """
    if not isinstance(levels, (list, tuple)) or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1 for p in levels
    ):
        raise ValueError(f"perception_levels must be a list of numbers in [0, 1]; got {levels!r}.")
    if len(set(map(float, levels))) != len(levels):
        raise ValueError(f"perception_levels has repeated values: {levels!r}.")


def curve_values(imputer, X_clean, X_missing, missing, reference, config, image_shape):
    """RMSE and FID of one test set imputed at every level of the perception knob.

    The package's RBMs compute the knob's two ends once per test set and blend them per
    level (identical to ``transform`` at each level); other estimators are transformed
    at each level, their ``perception`` restored afterwards.

    Parameters
    ----------
    imputer : estimator
        The cell's fitted imputer.
    X_clean, X_missing : ndarray of shape (n_samples, n_pixels)
        The test images, clean and with NaN at the missing pixels.
    missing : ndarray of bool
        The test mask.
    reference : object
        The clean test set's feature statistics (:func:`._scoring.fid_reference`).
    config : dict
        The run's configuration (``perception_levels``, the FID settings).
    image_shape : tuple of int

    Returns
    -------
    values : dict
        ``{curve_metric(...): value}`` for every level; empty when the preset sets no
        levels or the estimator has no ``perception`` parameter.
    """
    levels = config.get("perception_levels") or []
    if not levels or "perception" not in imputer.get_params():
        return {}
    if hasattr(imputer, "transform_perception_levels"):  # the RBMs: one chain per cell
        imputations = imputer.transform_perception_levels(X_missing, levels)
    else:
        imputations = _transform_at_levels(imputer, X_missing, levels)
    values = {}
    for level, imputed in zip(levels, imputations):
        values[curve_metric("rmse", level)] = rmse(X_clean, imputed, missing)
        values[curve_metric("fid", level)] = _scoring.fid_to_reference(
            imputed, reference, config, image_shape)
    return values


def _transform_at_levels(imputer, X_missing, levels):
    """``transform`` at each level; the estimator's ``perception`` is restored."""
    original = imputer.get_params()["perception"]
    try:
        return [imputer.set_params(perception=float(level)).transform(X_missing)
                for level in levels]
    finally:
        imputer.set_params(perception=original)


def curve_summary(frame):
    """The mean over repeat pairs of every curve point.

    Parameters
    ----------
    frame : DataFrame
        Results (``results.csv``).

    Returns
    -------
    curves : DataFrame
        Columns ``method, mechanism, rate, level, rmse, fid``, sorted by level; empty
        without curve points.
    """
    import pandas as pd

    frame = frame.reset_index(drop=True)  # a concatenated frame may repeat labels
    parsed = frame["metric"].str.extract(_POINT)
    points = frame[parsed[0].notna()].assign(kind=parsed[0], level=parsed[1].astype(float))
    if points.empty:
        return pd.DataFrame(columns=["method", "mechanism", "rate", "level", "rmse", "fid"])
    table = points.pivot_table(index=["method", "mechanism", "rate", "level"],
                               columns="kind", values="value", aggfunc="mean")
    return table.reset_index().sort_values(["method", "mechanism", "rate", "level"])
