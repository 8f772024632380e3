"""The benchmark's perception-distortion curves (issue 13): each RBM along its knob.

With the preset key ``perception_levels = [0, 0.25, 0.5, 0.75, 1]`` every cell of a
method whose estimator has a ``perception`` parameter (the two RBM imputers) also
imputes each test set at every level, **reusing the cell's fitted model** (only
``transform`` runs), and scores RMSE and FID there.  The points go to ``results.csv``
as rows of the same cell with the metrics ``rmse@p=<level>`` and ``fid@p=<level>``, so
a run that stops resumes as before (a cell's rows are written together) and the
summary tables, which read ``rmse`` and ``fid``, are unchanged.  ``pd_curve.png``
draws, per mechanism and rate, each such method's curve in the (RMSE, FID) plane and
every method's ordinary point.
"""

import re
from pathlib import Path

import numpy as np

from ..metrics import rmse
from . import _scoring

#: Metric names of a curve point: ``rmse@p=0.25``.
_POINT = re.compile(r"^(rmse|fid)@p=(.+)$")


def curve_metric(metric, level):
    """The results.csv metric name of a curve point."""
    return f"{metric}@p={float(level):g}"


def check_levels(levels):
    """``perception_levels``: a list of distinct numbers in [0, 1] (empty: no curve)."""
    if not isinstance(levels, (list, tuple)) or not all(
        isinstance(p, (int, float)) and not isinstance(p, bool) and 0 <= p <= 1 for p in levels
    ):
        raise ValueError(f"perception_levels must be a list of numbers in [0, 1]; got {levels!r}.")
    if len(set(map(float, levels))) != len(levels):
        raise ValueError(f"perception_levels has repeated values: {levels!r}.")


def curve_values(imputer, X_clean, X_missing, missing, reference, config, image_shape):
    """``{metric name: value}`` of every level of ``config["perception_levels"]``.

    Empty when the preset sets no levels or the estimator has no ``perception``
    parameter.  The package's RBMs compute the knob's two ends once per test set and
    blend them per level (identical to ``transform`` at each level); other estimators
    are transformed at each level, their ``perception`` restored afterwards.
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
    """Mean over repeat pairs of every curve point: rows ``method, mechanism, rate,
    level, rmse, fid``, sorted by level."""
    import pandas as pd

    frame = frame.reset_index(drop=True)  # a concatenated frame may repeat labels
    parsed = frame["metric"].str.extract(_POINT)
    points = frame[parsed[0].notna()].assign(kind=parsed[0], level=parsed[1].astype(float))
    if points.empty:
        return pd.DataFrame(columns=["method", "mechanism", "rate", "level", "rmse", "fid"])
    table = points.pivot_table(index=["method", "mechanism", "rate", "level"],
                               columns="kind", values="value", aggfunc="mean")
    return table.reset_index().sort_values(["method", "mechanism", "rate", "level"])


def plot_pd_curve(frame, path, *, methods=None, params=None):
    """FID against RMSE per (mechanism, rate): the knob curves, labelled by level, and
    every method's ordinary point.  Returns the path, or ``None`` without curve points."""
    from ._methods import method_label
    from ._plots import _fid_scale, _mechanisms, _pyplot, _style
    from ._results import MECHANISM_LABELS, ordered_methods, summarize

    curves = curve_summary(frame)
    if curves.empty:
        return None
    plt = _pyplot()
    summary = summarize(frame[frame["metric"].isin(["rmse", "fid"])])
    points = summary.pivot_table(index=["method", "mechanism", "rate"], columns="metric",
                                 values="mean")
    panels = [(mechanism, rate) for mechanism in _mechanisms(curves)
              for rate in sorted(curves[curves["mechanism"] == mechanism]["rate"].unique())]
    methods = ordered_methods(summary["method"], methods)
    style = _style(methods)
    fig, axes = plt.subplots(1, len(panels), squeeze=False, figsize=(5 * len(panels), 4.4))
    for ax, (mechanism, rate) in zip(axes[0], panels):
        fids = []
        for method in methods:
            color, marker = style[method]
            label = method_label(method, (params or {}).get(method))
            curve = curves[(curves["method"] == method) & (curves["mechanism"] == mechanism)
                           & (curves["rate"] == rate)]
            if len(curve):
                ax.plot(curve["rmse"], curve["fid"], color=color, marker=marker,
                        linestyle="-", linewidth=1.2, markersize=5,
                        label=f"{label}, perception 0 → 1")
                for level, x, y in zip(curve["level"], curve["rmse"], curve["fid"]):
                    ax.annotate(f"{level:g}", (x, y), textcoords="offset points",
                                xytext=(4, 3), fontsize=7, color=color)
                fids += list(curve["fid"])
            if (method, mechanism, rate) in points.index:
                x, y = points.loc[(method, mechanism, rate), ["rmse", "fid"]]
                ax.plot([x], [y], color=color, marker=marker, linestyle="none",
                        markersize=9, markerfacecolor="none" if len(curve) else color,
                        label=None if len(curve) else label)
                fids.append(y)
        _fid_scale(ax, np.asarray(fids, dtype=float))
        ax.set_xlabel("RMSE (distortion)")
        ax.set_ylabel("FID (perception)")
        ax.set_title(f"Perception knob — {MECHANISM_LABELS.get(mechanism, mechanism)} {rate:g}")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)
