"""What a user sees of the package itself: lean import, version, licence, CLI help."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import skrbm_impute
from skrbm_impute.__main__ import build_parser, main

REPO = Path(__file__).resolve().parents[1]


def _run_python(code):
    result = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_import_and_numpy_imputers_do_not_import_torch():
    out = _run_python(
        "import sys; import skrbm_impute\n"
        "from skrbm_impute import DiffusionInpaintImputer, MeanImputer, independent_mask\n"
        "from skrbm_impute.metrics import rmse\n"
        "import numpy as np\n"
        "X = np.where(independent_mask(4, (3, 3), 0.3, random_state=0), np.nan, 0.5)\n"
        "MeanImputer().fit_transform(X); DiffusionInpaintImputer().fit_transform(X)\n"
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    # (pandas is not checked: scikit-learn 1.9's own sklearn.utils.fixes imports it.)
    assert out.split() == ["False", "False"]


def test_torch_estimators_load_on_first_access():
    out = _run_python(
        "import sys, skrbm_impute\n"
        "before = 'torch' in sys.modules\n"
        "cls = skrbm_impute.LMRBMImputer\n"
        "from skrbm_impute.metrics import fid\n"
        "print(before, 'torch' in sys.modules, cls.__module__, fid.__module__)"
    )
    assert out.split() == ["False", "True", "skrbm_impute.impute._rbm",
                           "skrbm_impute.metrics._fid"]


def test_public_names_resolve_and_unknown_names_raise():
    for module in (skrbm_impute, skrbm_impute.impute, skrbm_impute.masks,
                   skrbm_impute.metrics, skrbm_impute.datasets, skrbm_impute.experiment):
        for name in module.__all__:
            assert getattr(module, name) is not None, (module.__name__, name)
        assert set(module.__all__) <= set(dir(module))
        with pytest.raises(AttributeError, match="no attribute 'nope'"):
            module.nope  # noqa: B018


def test_one_version_and_license_match_metadata():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert project["dynamic"] == ["version"] and "version" not in project
    from skrbm_impute._version import __version__

    assert skrbm_impute.__version__ == __version__
    assert project["license"] == "BSD-3-Clause"
    assert (REPO / "LICENSE").read_text().startswith("BSD 3-Clause License")


def test_cli_version(capsys):
    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"skrbm-impute {skrbm_impute.__version__}"


def test_cli_help_shows_defaults():
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.choices and "benchmark" in a.choices)
    text = subparsers.choices["benchmark"].format_help()
    assert "(default: skrbm-impute-results)" in " ".join(text.split())
    assert "(default: the preset's)" in " ".join(text.split())
