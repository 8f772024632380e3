"""The paper's study as a resumable, parallel benchmark: presets, runner, results, figures.

``run_benchmark("quick", "out/")`` (or ``skrbm-impute benchmark``) runs methods x
mechanisms x rates x training repeats x test repeats and writes ``results.csv``, a
Table-1-style ``summary.md``, ``paper_comparison.md``, ``curves.png``,
``perception_distortion.png``, ``pd_curve.png`` (the RBMs' perception knob) and
``examples.png``.  Cells of a method trained far below the paper's budget (MisGAN on a
CPU) are marked "undertrained" with their budget in the tables and figures.  This
subpackage needs the ``benchmark`` extra (pandas, matplotlib, mlxtend):
``python -m pip install "skrbm_impute[benchmark]"``.

The helpers behind these names live in private modules: ``_runner`` (cells, seeds,
the run), ``_results`` (the results file and summaries), ``_presets``, ``_methods``
(the method registry), ``_scoring`` (the metrics), ``_pd_curve`` (the knob's curve
points), ``_paper`` (Table 1, training budgets, the comparison) and ``_plots``.
"""

from ..utils._optional import import_optional

import_optional("pandas", "skrbm_impute.experiment (the benchmark)")

from ._methods import make_imputer  # noqa: E402
from ._paper import TABLE1, compare_with_paper  # noqa: E402
from ._plots import (  # noqa: E402
    draw_all,
    plot_curves,
    plot_examples,
    plot_pd_curve,
    plot_perception_distortion,
)
from ._presets import (  # noqa: E402
    DeviceError,
    check_device,
    list_presets,
    load_preset,
    parse_assignment,
    preset_path,
    read_preset_text,
)
from ._redraw import redraw_results  # noqa: E402
from ._results import read_results, summarize  # noqa: E402
from ._runner import BenchmarkRun, run_benchmark  # noqa: E402

__all__ = [
    "TABLE1",
    "BenchmarkRun",
    "DeviceError",
    "check_device",
    "compare_with_paper",
    "draw_all",
    "list_presets",
    "load_preset",
    "make_imputer",
    "parse_assignment",
    "plot_curves",
    "plot_examples",
    "plot_pd_curve",
    "plot_perception_distortion",
    "preset_path",
    "read_preset_text",
    "read_results",
    "redraw_results",
    "run_benchmark",
    "summarize",
]
