"""The benchmark's figures: metric-against-rate curves (Figure 1 of the paper), the
perception-distortion plane, the RBMs' perception-knob curves and a grid of example
imputations.  A method with undertrained cells (see :mod:`._paper`) carries its budget
in the legend, its undertrained points are drawn hollow, and its example rows say so."""

from pathlib import Path

import numpy as np

from ..utils._optional import import_optional
from ._methods import method_label
from ._paper import undertrained_cells, undertrained_methods, undertrained_text
from ._pd_curve import curve_summary
from ._results import (
    MECHANISM_LABELS,
    METRICS,
    mechanism_rank,
    ordered_methods,
    read_results,
    summarize,
)

_MARKERS = "osD^v<>Pp*hX"

#: Colour of the undertrained notes.
_WARNING = "#b2182b"

#: ``gid`` of the labels next to points (rates, perception levels, the RMSE of a point
#: beyond the axis), which :func:`_place_point_labels` moves apart.
_POINT_LABEL = "point-label"

#: Where a point label may stand, tried in turn: (offset in points, alignment).
_LABEL_SPOTS = (((4, 3), "left", "bottom"), ((4, -3), "left", "top"),
                ((-4, 3), "right", "bottom"), ((-4, -3), "right", "top"),
                ((0, 6), "center", "bottom"), ((0, -6), "center", "top"),
                ((-4, 10), "right", "bottom"), ((-4, -10), "right", "top"),
                ((4, 10), "left", "bottom"), ((4, -10), "left", "top"),
                ((-7, 0), "right", "center"), ((7, 0), "left", "center"))


def _pyplot():
    matplotlib = import_optional("matplotlib", "The benchmark's figures")
    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _mechanisms(frame):
    return sorted(frame["mechanism"].unique(), key=lambda m: (mechanism_rank(m), m))


def _style(methods):
    plt = _pyplot()
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    return {method: (colors[i % len(colors)], _MARKERS[i % len(_MARKERS)])
            for i, method in enumerate(methods)}


def _label(method, params, undertrained):
    """The legend label: the method's label, then its budget when undertrained."""
    label = method_label(method, (params or {}).get(method))
    if method in undertrained:
        label += f" ({undertrained_text(undertrained[method], short=True)})"
    return label


def _figure_legend(fig, axes, ncol, bottom):
    """One legend for all panels, below them (each label once)."""
    handles, labels = [], []
    for ax in np.ravel(axes):
        for handle, label in zip(*ax.get_legend_handles_labels()):
            if label not in labels:
                handles.append(handle)
                labels.append(label)
    if labels:
        fig.legend(handles, labels, loc="lower center", ncol=min(len(labels), ncol),
                   frameon=False, fontsize=9)
    fig.tight_layout(rect=(0, bottom, 1, 1))


def _fid_scale(ax, values):
    """FID spans orders of magnitude: log scale, or symlog when a value is 0.  Ticks
    are plain numbers (1, 2, 5, 10, ... within two decades), not powers of ten."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    values = np.asarray(values, dtype=float)
    values = values[np.isfinite(values)]
    if len(values) and (values > 0).all():
        ax.set_yscale("log")
        decades = np.log10(values.max() / values.min())
        ax.yaxis.set_major_locator(LogLocator(subs=(1.0,) if decades > 2 else (1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
        ax.yaxis.set_minor_formatter(NullFormatter())
    else:
        ax.set_yscale("symlog", linthresh=0.1)


def _clamp_outliers(ax, points, keep, color_of, keep_x=()):
    """Fit the x axis to the ``keep`` points (and the x values ``keep_x``) and draw
    every other point beyond it as a ▶ on the right edge, labelled with its RMSE, so an
    undertrained method far to the right does not squeeze the others into a corner.

    ``points`` are ``(method, x, y)``; returns the points to draw in place and whether
    any point was moved to the edge."""
    inside = [x for method, x, _ in points if method in keep] + list(keep_x)
    if not inside:
        return points, False
    low, high = min(inside), max(inside)
    pad = 0.08 * (high - low or high or 1.0)
    right = high + pad
    drawn = []
    for method, x, y in points:
        if method in keep or x <= right:
            drawn.append((method, x, y))
            continue
        ax.plot([right], [y], marker=">", color=color_of(method), markersize=7,
                markerfacecolor="white", linestyle="none", clip_on=False)
        ax.annotate(f"{x:.2f}", (right, y), textcoords="offset points", xytext=(-4, 5),
                    ha="right", fontsize=7, color=color_of(method), gid=_POINT_LABEL)
    ax.set_xlim(low - pad, right)
    return drawn, len(drawn) < len(points)


def _marker_boxes(ax, renderer):
    """The pixel boxes of the markers drawn in ``ax`` (obstacles for point labels)."""
    from matplotlib.transforms import Bbox

    boxes = []
    for line in ax.lines:
        if not line.get_visible() or line.get_marker() in (None, "", " ", "None", "none"):
            continue
        half = line.get_markersize() / 2 * renderer.points_to_pixels(1.0)
        points = line.get_transform().transform(np.asarray(line.get_xydata(), dtype=float))
        boxes += [Bbox([[x - half, y - half], [x + half, y + half]])
                  for x, y in points if np.isfinite(x) and np.isfinite(y)]
    return boxes


def _place_point_labels(fig, merge_within=12.0):
    """Keep each panel's point labels from covering one another or the markers (with
    the figure laid out as it will be saved).

    A label that repeats the text of an earlier one whose point is within
    ``merge_within`` pixels is hidden, the earlier label serving both (two methods'
    "0.3" at one place).  The others, in creation order, take the first spot -- their
    own, then those of :data:`_LABEL_SPOTS` -- that is, in this order of preference:
    inside the panel and clear of earlier labels, other texts and markers; inside the
    panel and clear of labels and texts; in the figure, outside every other panel and
    clear of labels, texts and markers; failing all, their own."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()

    def within(box, frame):
        return (frame.x0 <= box.x0 and box.x1 <= frame.x1
                and frame.y0 <= box.y0 and box.y1 <= frame.y1)

    def put(label, spot):
        offset, ha, va = spot
        label.set_position(offset)
        label.set_horizontalalignment(ha)
        label.set_verticalalignment(va)
        return label.get_window_extent(renderer)

    def clear(box, obstacles):
        return not any(box.overlaps(other) for other in obstacles)

    panels = [ax.get_window_extent(renderer) for ax in fig.axes]
    for index, ax in enumerate(fig.axes):
        labels = [text for text in ax.texts if text.get_gid() == _POINT_LABEL]
        if not labels:
            continue
        frame = panels[index]
        others = panels[:index] + panels[index + 1:]
        markers = _marker_boxes(ax, renderer)
        taken = [text.get_window_extent(renderer) for text in ax.texts
                 if text.get_gid() != _POINT_LABEL and text.get_visible()]
        tiers = (
            lambda box: within(box, frame) and clear(box, taken) and clear(box, markers),
            lambda box: within(box, frame) and clear(box, taken),
            lambda box: (within(box, fig.bbox) and clear(box, others) and clear(box, taken)
                         and clear(box, markers)),
        )
        kept = []  # (label, its point in pixels)
        for label in labels:
            point = ax.transData.transform(label.xy)
            if any(other.get_text() == label.get_text()
                   and np.hypot(*(point - other_point)) <= merge_within
                   for other, other_point in kept):
                label.set_visible(False)
                continue
            own = (tuple(label.get_position()), label.get_horizontalalignment(),
                   label.get_verticalalignment())
            spots = (own,) + _LABEL_SPOTS
            choice = next((spot for fits in tiers for spot in spots if fits(put(label, spot))),
                          own)
            taken.append(put(label, choice))
            kept.append((label, point))


def plot_curves(frame, path, *, methods=None, params=None):
    """Each metric against the missing rate, one panel per mechanism (Figure 1).

    The RBM-hidden accuracy ("RBM †") is drawn dashed in the accuracy panels; error
    bars are standard errors over the repeat pairs.

    Parameters
    ----------
    frame : DataFrame
        Results (``results.csv``).
    path : str or Path
        The PNG file to write.
    methods : list of str, optional
        The preset's method order.
    params : dict, optional
        The preset's ``params`` (for the methods' ``label`` keys).

    Returns
    -------
    path : Path
        The PNG file written.
    """
    plt = _pyplot()
    undertrained = undertrained_methods(frame)
    summary = summarize(frame)
    mechanisms = _mechanisms(frame)
    metrics = [m for m in ("rmse", "fid", "accuracy") if m in set(summary["metric"])]
    methods = ordered_methods(summary["method"], methods)
    style = _style(methods)
    fig, axes = plt.subplots(len(metrics), len(mechanisms), squeeze=False,
                             figsize=(4.2 * len(mechanisms), 3.2 * len(metrics)))
    for row, metric in enumerate(metrics):
        shown = [(metric, "-", "")]
        if metric == "accuracy":
            shown.append(("hidden_accuracy", "--", " †"))
        for col, mechanism in enumerate(mechanisms):
            ax = axes[row, col]
            for name, linestyle, suffix in shown:
                for method in methods:
                    part = summary[(summary["metric"] == name) & (summary["method"] == method)
                                   & (summary["mechanism"] == mechanism)].sort_values("rate")
                    if part.empty:
                        continue
                    color, marker = style[method]
                    ax.errorbar(part["rate"], part["mean"], yerr=part["se"].fillna(0),
                                color=color, marker=marker, linestyle=linestyle, capsize=3,
                                markersize=5,
                                markerfacecolor="none" if method in undertrained else color,
                                label=_label(method, params, undertrained) + suffix)
            if metric == "fid":
                _fid_scale(ax, summary[summary["metric"] == "fid"]["mean"])
            ax.set_title(f"{METRICS[metric][0]} — {MECHANISM_LABELS.get(mechanism, mechanism)}")
            ax.set_xlabel("missing rate")
            ax.grid(alpha=0.3)
        axes[row, 0].set_ylabel(METRICS[metric][0])
    _figure_legend(fig, axes, ncol=4, bottom=0.09)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_perception_distortion(frame, path, *, methods=None, params=None):
    """FID against RMSE, one panel per mechanism; lower-left is better (the title says so).

    Each method is a marker, its points joined in rate order and labelled by rate;
    error bars are standard errors.  Undertrained cells are hollow markers, and the
    method's legend entry states its budget next to the paper's.

    Parameters
    ----------
    frame : DataFrame
        Results (``results.csv``).
    path : str or Path
        The PNG file to write.
    methods : list of str, optional
        The preset's method order.
    params : dict, optional
        The preset's ``params`` (for the methods' ``label`` keys).

    Returns
    -------
    path : Path
        The PNG file written.
    """
    plt = _pyplot()
    undertrained = undertrained_methods(frame)
    hollow = undertrained_cells(frame)
    summary = summarize(frame)
    mechanisms = _mechanisms(frame)
    methods = ordered_methods(summary["method"], methods)
    style = _style(methods)
    wide = summary.pivot_table(index=["method", "mechanism", "rate"], columns="metric",
                               values=["mean", "se"], dropna=False)
    fig, axes = plt.subplots(1, len(mechanisms), squeeze=False,
                             figsize=(3.6 * len(mechanisms) + 0.4, 4.2))
    for col, mechanism in enumerate(mechanisms):
        ax = axes[0, col]
        for method in methods:
            try:
                part = wide.loc[(method, mechanism)].sort_index()
            except KeyError:
                continue
            if ("mean", "rmse") not in part or ("mean", "fid") not in part:
                continue
            color, marker = style[method]
            x, y = part[("mean", "rmse")], part[("mean", "fid")]
            ax.errorbar(x, y, xerr=part[("se", "rmse")].fillna(0),
                        yerr=part[("se", "fid")].fillna(0), color=color, marker="none",
                        linestyle="--" if method in undertrained else "-", linewidth=0.8,
                        capsize=2, label=None)
            filled = [(method, mechanism, float(rate)) not in hollow for rate in part.index]
            for rate, xi, yi, full in zip(part.index, x, y, filled):
                ax.plot([xi], [yi], color=color, marker=marker, markersize=6,
                        markerfacecolor=color if full else "white", linestyle="none")
                ax.annotate(f"{rate:g}", (xi, yi), textcoords="offset points", xytext=(4, 3),
                            fontsize=7, color=color, gid=_POINT_LABEL)
            ax.plot([], [], color=color, marker=marker, markersize=6,
                    markerfacecolor=color if all(filled) else "white",
                    linestyle="--" if method in undertrained else "-",
                    label=_label(method, params, undertrained))
        _fid_scale(ax, summary[summary["metric"] == "fid"]["mean"])
        ax.set_xlabel("RMSE (distortion)")
        if col == 0:
            ax.set_ylabel("FID (perception)")
        ax.set_title(MECHANISM_LABELS.get(mechanism, mechanism))
        ax.grid(alpha=0.3)
    # "Lower-left is better" is said in the title: an arrow in the corner would cross the
    # best methods' points and labels.
    fig.suptitle("Perception–distortion plane: lower-left is better (points labelled by "
                 "missing rate)", fontsize=11, wrap=True)
    _figure_legend(fig, axes, ncol=3, bottom=0.16)
    fig.set_dpi(120)  # the saved resolution: labels are placed in its pixels
    _place_point_labels(fig)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def plot_pd_curve(frame, path, *, methods=None, params=None):
    """The RBMs' perception-knob curves: FID against RMSE, one panel per mechanism and rate.

    The panels form a grid: one row per mechanism, one column per rate.

    Each method with curve points (metrics ``rmse@p=<level>``, ``fid@p=<level>``) is a
    line from perception 0 to 1, its points labelled by level; every method's ordinary
    point is a marker (hollow on a curve's start and for undertrained cells).  Panels of
    a row share the FID axis (log scale), so the rates of a mechanism compare at a glance.

    Parameters
    ----------
    frame : DataFrame
        Results (``results.csv``).
    path : str or Path
        The PNG file to write.
    methods : list of str, optional
        The preset's method order.
    params : dict, optional
        The preset's ``params`` (for the methods' ``label`` keys).

    Returns
    -------
    path : Path or None
        None (and no file) when the results hold no curve points.
    """
    curves = curve_summary(frame)
    if curves.empty:
        return None
    plt = _pyplot()
    undertrained = undertrained_methods(frame)
    hollow = undertrained_cells(frame)
    summary = summarize(frame[frame["metric"].isin(["rmse", "fid"])])
    points = summary.pivot_table(index=["method", "mechanism", "rate"], columns="metric",
                                 values="mean")
    mechanisms = _mechanisms(curves)
    rates = sorted(curves["rate"].unique())
    methods = ordered_methods(summary["method"], methods)
    style = _style(methods)
    fig, axes = plt.subplots(len(mechanisms), len(rates), squeeze=False, sharey="row",
                             figsize=(3.3 * len(rates) + 0.5, 2.9 * len(mechanisms) + 0.9))
    clamped = False
    for row, mechanism in enumerate(mechanisms):
        fids = []
        for col, rate in enumerate(rates):
            ax = axes[row, col]
            ordinary, curve_x = [], []
            for method in methods:
                color, marker = style[method]
                curve = curves[(curves["method"] == method) & (curves["mechanism"] == mechanism)
                               & (curves["rate"] == rate)]
                if len(curve):
                    ax.plot(curve["rmse"], curve["fid"], color=color, marker=marker,
                            linestyle="-", linewidth=1.2, markersize=4,
                            label=f"{_label(method, params, undertrained)}, perception 0 → 1")
                    for level, x, y in zip(curve["level"], curve["rmse"], curve["fid"]):
                        if level in (curve["level"].min(), curve["level"].max()):
                            ax.annotate(f"{level:g}", (x, y), textcoords="offset points",
                                        xytext=(4, 3), fontsize=7, color=color,
                                        gid=_POINT_LABEL)
                    fids += list(curve["fid"])
                    curve_x += list(curve["rmse"])
                if (method, mechanism, rate) in points.index:
                    x, y = points.loc[(method, mechanism, rate), ["rmse", "fid"]]
                    if np.isfinite(x) and np.isfinite(y):
                        ordinary.append((method, x, y, len(curve) > 0))
            comparable = {m for m, *_ in ordinary if (m, mechanism, float(rate)) not in hollow}
            shown, moved = _clamp_outliers(ax, [(m, x, y) for m, x, y, _ in ordinary], comparable,
                                    lambda m: style[m][0], curve_x)
            clamped = clamped or moved
            on_curve = {m for m, _, _, has_curve in ordinary if has_curve}
            for method, x, y in shown:
                color, marker = style[method]
                full = method not in on_curve and (method, mechanism, float(rate)) not in hollow
                ax.plot([x], [y], color=color, marker=marker, linestyle="none",
                        markersize=7, markerfacecolor=color if full else "white")
            for method, _, y, _ in ordinary:
                fids.append(y)
                if method not in on_curve:  # the legend entry of a method without a curve
                    color, marker = style[method]
                    ax.plot([], [], color=color, marker=marker, linestyle="none", markersize=7,
                            markerfacecolor="white" if method in undertrained else color,
                            label=_label(method, params, undertrained))
            ax.set_title(f"{MECHANISM_LABELS.get(mechanism, mechanism)}, rate {rate:g}",
                         fontsize=10)
            ax.grid(alpha=0.3)
            ax.tick_params(labelsize=8)
            if row == len(mechanisms) - 1:
                ax.set_xlabel("RMSE (distortion)")
            if col == 0:
                ax.set_ylabel("FID (perception)")
        for ax in axes[row]:
            _fid_scale(ax, np.asarray(fids, dtype=float))
    fig.suptitle("Perception knob: each RBM imputing from perception 0 (mean field) "
                 "to 1 (a posterior sample)", fontsize=11, wrap=True)
    if clamped:
        axes[0, 0].plot([], [], marker=">", color="0.3", markerfacecolor="white",
                        linestyle="none", label="undertrained, beyond the axis (its RMSE)")
    _figure_legend(fig, axes, ncol=3, bottom=0.08)
    fig.set_dpi(120)  # the saved resolution: labels are placed in its pixels
    _place_point_labels(fig)
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def _mosaic(images, image_shape, pad=1, fill=1.0):
    height, width = image_shape
    n = len(images)
    channels = images.shape[-1] if images.ndim == 4 else None  # (n, H, W[, RGB])
    shape = (height, n * (width + pad) - pad) + ((channels,) if channels else ())
    canvas = np.full(shape, fill, dtype=float)
    for i, image in enumerate(images):
        canvas[:, i * (width + pad): i * (width + pad) + width] = image
    return canvas


def plot_examples(examples_dir, path, *, rate=None, methods=None, params=None, frame=None):
    """Clean, masked and each method's imputation of the first test images.

    One block per mechanism at one rate (the rate nearest 0.6 by default); missing
    pixels of the masked row are drawn blue.  With ``frame``, the imputations of an
    undertrained cell carry its budget next to the paper's.

    Parameters
    ----------
    examples_dir : str or Path
        The run's ``examples`` folder (``clean.npz`` and ``<method>__<mech>__<rate>.npz``).
    path : str or Path
        The PNG file to write.
    rate : float, optional
        The rate to show (the saved rate nearest to it); default nearest 0.6.
    methods : list of str, optional
        The preset's method order.
    params : dict, optional
        The preset's ``params`` (for the methods' ``label`` keys).
    frame : DataFrame, optional
        Results (``results.csv``), for the training budgets.

    Returns
    -------
    path : Path or None
        None (and no file) when no examples were saved.
    """
    plt = _pyplot()
    budgets = {} if frame is None else undertrained_cells(frame)
    examples_dir = Path(examples_dir)
    clean_file = examples_dir / "clean.npz"
    if not clean_file.exists():
        return None
    with np.load(clean_file) as archive:
        clean, image_shape = archive["clean"], tuple(int(s) for s in archive["image_shape"])
    saved = {}
    for file in examples_dir.glob("*__*__*.npz"):
        method, mechanism, rate_text = file.stem.split("__")
        saved[(method, mechanism, float(rate_text))] = file
    if not saved:
        return None
    rates = sorted({key[2] for key in saved})
    chosen = min(rates, key=lambda r: abs(r - (0.6 if rate is None else rate)))
    mechanisms = sorted({k[1] for k in saved if k[2] == chosen},
                        key=lambda m: (mechanism_rank(m), m))
    methods = ordered_methods({k[0] for k in saved if k[2] == chosen}, methods)
    n = len(clean)
    images = clean.reshape(n, *image_shape)
    rows = ["clean", "masked"] + methods
    fig, axes = plt.subplots(len(rows), len(mechanisms), squeeze=False,
                             figsize=(max(3.0, 0.42 * n) * len(mechanisms), 0.62 * len(rows) + 0.8))
    for col, mechanism in enumerate(mechanisms):
        missing = None
        for row, name in enumerate(rows):
            ax = axes[row, col]
            ax.set_xticks([])
            ax.set_yticks([])
            if name == "clean":
                ax.imshow(_mosaic(images, image_shape), cmap="gray", vmin=0, vmax=1)
            elif name != "masked":
                file = saved.get((name, mechanism, chosen))
                if file is None:
                    continue
                with np.load(file) as archive:
                    imputed = archive["imputed"].reshape(-1, *image_shape)
                    missing = archive["missing"].reshape(-1, *image_shape)
                ax.imshow(_mosaic(imputed, image_shape), cmap="gray", vmin=0, vmax=1)
                if (name, mechanism, chosen) in budgets:
                    # A heading in the gap above the row: it hides none of the images.
                    ax.set_title(undertrained_text(budgets[(name, mechanism, chosen)],
                                                   short=True),
                                 loc="left", fontsize=8, color=_WARNING, pad=2)
                    for spine in ax.spines.values():
                        spine.set_edgecolor(_WARNING)
            if col == 0:
                label = (name if name in ("clean", "masked")
                         else method_label(name, (params or {}).get(name)))
                ax.set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
        if missing is not None:
            rgb = np.repeat(images[..., None], 3, axis=-1)
            rgb[missing] = (0.25, 0.45, 0.95)
            axes[1, col].imshow(_mosaic(rgb, image_shape))
        axes[0, col].set_title(f"{MECHANISM_LABELS.get(mechanism, mechanism)}, rate {chosen:g}")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return Path(path)


def draw_all(out_dir, frame=None, config=None):
    """Draw every figure of a results folder.

    Parameters
    ----------
    out_dir : str or Path
        The run's output folder; the figures are written there.
    frame : DataFrame, optional
        Results; default read from ``out_dir/results.csv``.
    config : dict, optional
        The run's configuration (its ``methods`` order and ``params`` labels).

    Returns
    -------
    figures : dict
        ``{name: path}`` of the figures drawn: ``curves``, ``perception_distortion``,
        and, when their data exist, ``pd_curve`` and ``examples``.
    """
    out_dir = Path(out_dir)
    frame = read_results(out_dir) if frame is None else frame
    methods = (config or {}).get("methods")
    params = (config or {}).get("params")
    figures = {}
    if frame.empty:
        return figures
    figures["curves"] = plot_curves(frame, out_dir / "curves.png", methods=methods, params=params)
    figures["perception_distortion"] = plot_perception_distortion(
        frame, out_dir / "perception_distortion.png", methods=methods, params=params)
    pd_curve = plot_pd_curve(frame, out_dir / "pd_curve.png", methods=methods, params=params)
    if pd_curve is not None:
        figures["pd_curve"] = pd_curve
    examples = plot_examples(out_dir / "examples", out_dir / "examples.png", methods=methods,
                             params=params, frame=frame)
    if examples is not None:
        figures["examples"] = examples
    return figures
