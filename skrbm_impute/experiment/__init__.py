"""The paper's study as a resumable, parallel benchmark: presets, runner, results, figures.

``run_benchmark("quick", "out/")`` (or ``skrbm-impute benchmark``) runs methods x
mechanisms x rates x training repeats x test repeats and writes ``results.csv``, a
Table-1-style ``summary.md``, ``curves.png``, ``perception_distortion.png`` and
``examples.png``.
"""

from ._methods import METHODS, Method, make_imputer
from ._paper import TABLE1, compare_with_paper
from ._plots import draw_all, plot_curves, plot_examples, plot_perception_distortion
from ._presets import DEFAULTS, list_presets, load_preset, preset_path
from ._results import ResultsFile, ratios_to, read_results, summarize, summary_markdown
from ._runner import (
    BenchmarkRun,
    benchmark_cells,
    derive_seed,
    run_benchmark,
    run_cell,
    write_summaries,
)

__all__ = [
    "DEFAULTS",
    "METHODS",
    "TABLE1",
    "BenchmarkRun",
    "Method",
    "ResultsFile",
    "benchmark_cells",
    "compare_with_paper",
    "derive_seed",
    "draw_all",
    "list_presets",
    "load_preset",
    "make_imputer",
    "plot_curves",
    "plot_examples",
    "plot_perception_distortion",
    "preset_path",
    "ratios_to",
    "read_results",
    "run_benchmark",
    "run_cell",
    "summarize",
    "summary_markdown",
    "write_summaries",
]
