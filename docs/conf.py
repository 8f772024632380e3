"""Sphinx configuration: numpydoc API reference, user guide, sphinx-gallery examples.

Built offline with warnings as errors (``.ci/run`` and the README)::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # document this checkout, not another installed copy
os.environ.setdefault("MPLBACKEND", "Agg")

import skrbm_impute  # noqa: E402

project = "skrbm_impute"
author = "skrbm_impute developers"
copyright = "2026, skrbm_impute developers"
version = release = skrbm_impute.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

# No intersphinx: the build must work offline.  References to scikit-learn and NumPy
# are plain text.
autosummary_generate = True
# Class pages list their methods through docs/_templates/autosummary/class.rst.
autodoc_default_options = {}
numpydoc_show_class_members = False  # autosummary pages list the members
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    # Only the plot_*.py examples run at build time (each in seconds).
    "filename_pattern": r"/plot_",
    "ignore_pattern": r"__init__\.py",
    "download_all_examples": False,
    "plot_gallery": "True",
    "within_subsection_order": "FileNameSortKey",
    "remove_config_comments": True,
    "show_memory": False,
    "matplotlib_animations": False,
}

templates_path = ["_templates"]
exclude_patterns = ["_build", "generated/*.examples"]
html_theme = "alabaster"
html_theme_options = {
    "description": "RBM imputers and the perception-distortion benchmark",
    "fixed_sidebar": True,
}
html_static_path = []
html_show_sourcelink = False
