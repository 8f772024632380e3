"""Hostile presets, method names and downloads."""

import email.message
import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import torch

from skrbm_impute.__main__ import build_parser, main
from skrbm_impute.experiment import load_preset, make_imputer, run_benchmark
from skrbm_impute.experiment._methods import import_estimator, import_feature_callable

REPO = Path(__file__).resolve().parents[1]
SMALL = {
    "dataset": "digits", "n_train": 60, "n_test": 30, "mechanisms": ["IM"], "rates": [0.3],
    "methods": ["mean"], "n_examples": 0,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 20},
}


@pytest.mark.parametrize("name", ["../../escaped", "/tmp/absolute", "a b", "x.y", "", "é"])
def test_method_names_that_are_not_plain_file_names_are_refused(tmp_path, name):
    with pytest.raises(ValueError, match="may hold only letters, digits"):
        run_benchmark(dict(SMALL, methods=[name], params={name: {"estimator":
                      "skrbm_impute.impute:MeanImputer"}}), tmp_path / "out", echo=None,
                      progress=False, plots=False)
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escaped").exists()


def test_plain_method_names_work(tmp_path):
    params = {"my-mean_2": {"estimator": "skrbm_impute.impute:MeanImputer"}}
    run = run_benchmark(dict(SMALL, methods=["my-mean_2"], params=params), tmp_path,
                        echo=None, progress=False, plots=False)
    assert run.n_computed == 1 and (tmp_path / "models" / "my-mean_2__IM__0.3.joblib").exists()


@pytest.mark.parametrize("path", [
    "os:system", "subprocess:Popen", "subprocess:getoutput", "builtins:eval",
    "numpy:load", "sklearn.base:BaseEstimator.__init__", "sklearn.linear_model:LinearRegression",
    "sklearn.base:clone",
])
def test_estimator_paths_accept_only_estimator_classes(path):
    with pytest.raises((TypeError, ImportError)):
        import_estimator(path)


def test_estimator_paths_accept_scikit_learn_transformers():
    from sklearn.impute import KNNImputer

    assert import_estimator("sklearn.impute:KNNImputer") is KNNImputer
    imputer = make_imputer("knn", {"estimator": "sklearn.impute:KNNImputer"})
    assert isinstance(imputer, KNNImputer)


@pytest.mark.parametrize("command", ["benchmark", "impute"])
def test_the_os_system_trick_runs_nothing(tmp_path, capsys, command, monkeypatch):
    monkeypatch.chdir(tmp_path)
    np.save(tmp_path / "x.npy", np.array([[0.1, np.nan]]))
    sets = ["--set", "params.x.estimator=os:system", "--set", "params.x.command=touch pwned"]
    if command == "benchmark":
        argv = ["benchmark", "--methods", "x", "--out", "r", "--quiet", *sets]
    else:
        argv = ["impute", "x.npy", "o.npy", "--method", "x", *sets]
    assert main(argv) == 1
    assert "not a scikit-learn estimator class" in capsys.readouterr().err
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize("path", [
    "os:system", "builtins:print", "subprocess:getoutput", "os:popen",
    "sklearn.impute:SimpleImputer", "numpy:pi",
])
def test_fid_feature_paths_refuse_builtins_classes_and_the_standard_library(path):
    with pytest.raises(TypeError):
        import_feature_callable(path)


def test_fid_feature_paths_accept_a_feature_function(tmp_path, monkeypatch):
    (tmp_path / "myfeatures.py").write_text(
        "import numpy as np\n\ndef halves(X):\n    return np.asarray(X)[:, ::2]\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_feature_callable("myfeatures:halves").__name__ == "halves"
    config = dict(SMALL, metrics={"fid_features": "myfeatures:halves",
                                  "classifier_max_iter": 20})
    run = run_benchmark(config, tmp_path / "out", echo=None, progress=False, plots=False)
    assert run.n_computed == 1
    with pytest.raises(TypeError, match="fid_features 'os:system'"):
        run_benchmark(dict(SMALL, metrics={"fid_features": "os:system"}), tmp_path / "o2",
                      echo=None, progress=False, plots=False)
    assert not (tmp_path / "o2").exists()


def test_help_and_readme_say_presets_and_models_are_trusted():
    for parser_help in (build_parser().format_help(),
                        build_parser()._subparsers._group_actions[0].choices["impute"]
                        .format_help()):
        text = " ".join(parser_help.split())
        assert "presets (and --set) are trusted code" in text
        assert "load only files you made or trust" in text
    readme = " ".join((REPO / "README.md").read_text().split())
    assert "Presets are trusted code" in readme
    assert "load only files you made or trust" in readme


# --- the InceptionV3 download --------------------------------------------------------

class _FakeResponse(io.BytesIO):
    def info(self):
        message = email.message.Message()
        message["Content-Length"] = str(len(self.getvalue()))
        return message


@pytest.fixture
def fake_download(tmp_path, monkeypatch):
    """Serve ``payload`` for any URL and point torch hub at an empty folder."""
    served = {}
    monkeypatch.setattr(torch.hub, "urlopen", lambda request: _FakeResponse(served["payload"]))
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield served
    torch.hub.set_dir(previous)


def test_inception_download_with_a_wrong_hash_is_discarded(fake_download, tmp_path):
    from skrbm_impute.metrics import InceptionFeatures

    fake_download["payload"] = b"not the InceptionV3 weights"
    features = InceptionFeatures()
    with pytest.raises(RuntimeError, match="its SHA-256 does not start with 6726825d"):
        features._state_dict()
    checkpoints = tmp_path / "hub" / "checkpoints"
    assert not any(checkpoints.iterdir())  # nothing left in the cache, not even a .partial


def test_inception_download_with_the_published_hash_is_kept(fake_download, tmp_path,
                                                            monkeypatch):
    from pytorch_fid import inception

    from skrbm_impute.metrics import InceptionFeatures

    buffer = io.BytesIO()
    torch.save({"w": torch.arange(3.0)}, buffer)
    payload = buffer.getvalue()
    prefix = hashlib.sha256(payload).hexdigest()[:8]
    url = f"https://example.invalid/pt_inception-2015-12-05-{prefix}.pth"
    monkeypatch.setattr(inception, "FID_WEIGHTS_URL", url)
    fake_download["payload"] = payload
    state = InceptionFeatures()._state_dict()
    torch.testing.assert_close(state["w"], torch.arange(3.0))
    assert (tmp_path / "hub" / "checkpoints" / Path(url).name).read_bytes() == payload
