"""The paper's study as a resumable, parallel benchmark: presets, runner, results, figures.

``run_benchmark("quick", "out/")`` (or ``skrbm-impute benchmark``) runs methods x
mechanisms x rates x training repeats x test repeats and writes ``results.csv``, a
Table-1-style ``summary.md``, ``curves.png``, ``perception_distortion.png`` and
``examples.png``.  This subpackage needs the ``benchmark`` extra (pandas, matplotlib,
mlxtend): ``python -m pip install "skrbm_impute[benchmark]"``.

The helpers behind these names (cell enumeration, seeds, the results file) live in
the private modules ``_runner``, ``_results``, ``_presets``, ``_methods`` and ``_plots``.
"""

from ..utils._optional import import_optional

import_optional("pandas", "skrbm_impute.experiment (the benchmark)")

from ._methods import make_imputer  # noqa: E402
from ._paper import TABLE1, compare_with_paper  # noqa: E402
from ._plots import draw_all, plot_curves, plot_perception_distortion  # noqa: E402
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
    "plot_perception_distortion",
    "preset_path",
    "read_preset_text",
    "read_results",
    "redraw_results",
    "run_benchmark",
    "summarize",
]
