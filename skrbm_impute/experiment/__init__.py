"""The paper's study as a resumable, parallel benchmark: presets, runner, results, figures.

``run_benchmark("quick", "out/")`` (or ``skrbm-impute benchmark``) runs methods x
mechanisms x rates x training repeats x test repeats and writes ``results.csv``, a
Table-1-style ``summary.md``, ``paper_comparison.md``, ``curves.png``,
``perception_distortion.png``, ``pd_curve.png`` (the RBMs' perception knob) and
``examples.png``.  Cells of a method trained far below the paper's budget (MisGAN on a
CPU) are marked "undertrained" with their budget in the tables and figures.  This
subpackage needs the ``benchmark`` extra (pandas, matplotlib, mlxtend):
``python -m pip install "skrbm_impute[benchmark]"``.

The public names (``__all__``) are the Python API of the benchmark:

- running it: :func:`run_benchmark` (returns a :class:`BenchmarkRun`), the presets
  (:func:`list_presets`, :func:`preset_path` to copy one, :func:`load_preset` to
  resolve one with overrides) and :func:`make_imputer` (a method of a preset as an
  estimator);
- reading its results: :func:`read_results`, :func:`summarize`,
  :func:`compare_with_paper` and ``TABLE1`` (the paper's Table 1);
- drawing them: :func:`draw_all`, :func:`plot_curves`,
  :func:`plot_perception_distortion`, :func:`plot_pd_curve`, :func:`plot_examples` and
  :func:`redraw_results` (the ``plot`` command).

What only the command line needs stays in the private modules it imports from:
``_presets.parse_assignment`` (``--set KEY=VALUE``), ``_presets.read_preset_text``
(``presets --show``), ``_presets.check_device`` and ``_presets.DeviceError`` (a
``--device`` checked while parsing, a usage error).  The other private modules:
``_runner`` (cells, seeds, the run), ``_results`` (the results file and summaries),
``_methods`` (the method registry), ``_scoring`` (the metrics), ``_pd_curve`` (the
knob's curve points), ``_paper`` (Table 1, training budgets, the comparison),
``_plots`` and ``_redraw``.
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
from ._presets import list_presets, load_preset, preset_path  # noqa: E402
from ._redraw import redraw_results  # noqa: E402
from ._results import read_results, summarize  # noqa: E402
from ._runner import BenchmarkRun, run_benchmark  # noqa: E402

__all__ = [
    "TABLE1",
    "BenchmarkRun",
    "compare_with_paper",
    "draw_all",
    "list_presets",
    "load_preset",
    "make_imputer",
    "plot_curves",
    "plot_examples",
    "plot_pd_curve",
    "plot_perception_distortion",
    "preset_path",
    "read_results",
    "redraw_results",
    "run_benchmark",
    "summarize",
]
