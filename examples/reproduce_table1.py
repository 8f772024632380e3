"""
Reproduce the paper's Table 1 in miniature
==========================================

Not run when the documentation is built: the ``quick`` preset takes several minutes.

Runs the ``quick`` preset on the offline MNIST sample (all five methods, three
mechanisms at rates 0.3/0.6/0.9; under 10 minutes on 2 CPU cores) -- or the preset
named on the command line -- and
prints the Table-1-style summary and the comparison with the paper's numbers as
ratios to the Mean imputer.  Rerunning resumes: finished cells are skipped::

    python examples/reproduce_table1.py [quick|cpu|paper|my.toml] [OUT]

The same as ``skrbm-impute benchmark --preset quick --out table1-quick``.
"""

import sys

from skrbm_impute.experiment import run_benchmark

preset = sys.argv[1] if len(sys.argv) > 1 else "quick"
out = sys.argv[2] if len(sys.argv) > 2 else f"table1-{preset}"
run = run_benchmark(preset, out)  # prints the summary tables
comparison = run.out_dir / "paper_comparison.md"
if comparison.exists():
    print(comparison.read_text())
print("Figures:", ", ".join(str(path) for path in run.figures.values()))
