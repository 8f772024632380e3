"""The command line under bad input (issue 11): CSV headers and missing tokens, .npy
kinds and shapes, output onto the input, bad --model files, options checked first."""

import numpy as np
import pandas as pd
import pytest

from skrbm_impute.__main__ import main
from skrbm_impute._cli._array_files import CSV_MISSING_TOKENS, read_input
from skrbm_impute.experiment import _runner

TINY_DIGITS = ["--set", "dataset=\"digits\"", "--set", "metrics.fid_features=\"pixels\""]


def _error(capsys):
    err = capsys.readouterr().err.strip()
    return err


def test_csv_missing_tokens_are_pandas_defaults():
    from pandas._libs.parsers import STR_NA_VALUES

    assert CSV_MISSING_TOKENS == STR_NA_VALUES


def test_csv_header_is_detected_kept_and_missing_tokens_read_as_pandas_does(tmp_path):
    text = ("a,b,c,d\n"
            "0.1,NA,0.3,0.4\n"
            "0.5,0.6,,0.8\n"
            "0.2,null,0.3,N/A\n"
            "0.5,0.6,0.7,0.8\n")
    (tmp_path / "in.csv").write_text(text)
    data = read_input(tmp_path / "in.csv")
    expected = pd.read_csv(tmp_path / "in.csv").to_numpy(dtype=float)
    np.testing.assert_array_equal(data.X, expected)  # NaN where pandas has NaN
    assert data.header == ["a", "b", "c", "d"]
    assert main(["impute", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"),
                 "--method", "mean"]) == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert list(out.columns) == ["a", "b", "c", "d"] and len(out) == 4
    filled = out.to_numpy()
    assert not np.isnan(filled).any()
    observed = ~np.isnan(expected)
    np.testing.assert_array_equal(filled[observed], expected[observed])  # bit-identical
    assert filled[0, 1] == pytest.approx(np.nanmean(expected[:, 1]))


def test_csv_without_header_and_unknown_tokens(tmp_path, capsys):
    (tmp_path / "in.csv").write_text("0.1,,0.3\n0.5,0.6,0.7\n")
    data = read_input(tmp_path / "in.csv")
    assert data.header is None and data.X.shape == (2, 3) and np.isnan(data.X[0, 1])
    (tmp_path / "bad.csv").write_text("0.1,0.2,0.3\n0.5,oops,0.7\n")
    assert main(["impute", str(tmp_path / "bad.csv"), str(tmp_path / "o.csv"),
                 "--method", "mean"]) == 1
    err = _error(capsys)
    assert "bad.csv, line 2, column 2: 'oops' is neither a number" in err
    assert len(err.splitlines()) == 1


def test_complex_npy_is_refused(tmp_path, capsys):
    np.save(tmp_path / "c.npy", np.ones((3, 4)) + 1j)
    assert main(["impute", str(tmp_path / "c.npy"), str(tmp_path / "o.npy"),
                 "--method", "mean"]) == 1
    assert "c.npy: a complex array (complex128)" in _error(capsys)
    assert not (tmp_path / "o.npy").exists()


def test_images_npy_keep_their_shape(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.random((6, 4, 3))  # non-square images: their shape comes from the file
    X[rng.random(X.shape) < 0.3] = np.nan
    np.save(tmp_path / "in.npy", X)
    assert main(["impute", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"),
                 "--method", "diffusion", "--set", "params.diffusion.n_iter=5"]) == 0
    out = np.load(tmp_path / "out.npy")
    assert out.shape == (6, 4, 3) and not np.isnan(out).any()
    np.testing.assert_array_equal(out[~np.isnan(X)], X[~np.isnan(X)])


def test_output_onto_the_input_is_refused_unless_asked_for(tmp_path, capsys):
    X = np.array([[0.1, np.nan], [0.3, 0.4]])
    np.save(tmp_path / "x.npy", X)
    for output in ("x.npy", "./x.npy"):
        assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / output),
                     "--method", "mean"]) == 1
        assert "is the input file" in _error(capsys)
    np.testing.assert_array_equal(np.load(tmp_path / "x.npy"), X)  # untouched
    (tmp_path / "link.npy").symlink_to(tmp_path / "x.npy")
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "link.npy"),
                 "--method", "mean"]) == 1
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "x.npy"),
                 "--method", "mean", "--overwrite-input"]) == 0
    assert not np.isnan(np.load(tmp_path / "x.npy")).any()


def test_text_file_named_npy_gives_one_line(tmp_path, capsys):
    (tmp_path / "t.npy").write_text("0.1,0.2\n")
    assert main(["impute", str(tmp_path / "t.npy"), str(tmp_path / "o.npy"),
                 "--method", "mean"]) == 1
    err = _error(capsys)
    assert "t.npy: not a NumPy .npy file" in err and len(err.splitlines()) == 1


@pytest.mark.parametrize("kind, message", [
    ("dict", "holds a builtins.dict, not a scikit-learn imputer"),
    ("npy", "a NumPy .npy array, not a saved model"),
    ("empty", "empty file, not a saved model"),
    ("garbage", "not a readable joblib model"),
    ("unfitted", "the MeanImputer in it is not fitted"),
    ("missing", "no such model file"),
])
def test_bad_model_files_give_one_line_naming_file_and_problem(tmp_path, capsys, kind, message):
    import joblib

    from skrbm_impute import MeanImputer

    model = tmp_path / f"model.{kind}"
    if kind == "dict":
        joblib.dump({"statistics_": 1}, model)
    elif kind == "npy":
        with open(model, "wb") as f:
            np.save(f, np.zeros(3))
    elif kind == "empty":
        model.write_bytes(b"")
    elif kind == "garbage":
        model.write_bytes(b"not a pickle at all")
    elif kind == "unfitted":
        joblib.dump(MeanImputer(), model)
    np.save(tmp_path / "x.npy", np.array([[0.1, np.nan]]))
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "o.npy"),
                 "--model", str(model)]) == 1
    err = _error(capsys)
    assert len(err.splitlines()) == 1 and str(model) in err and message in err
    assert not (tmp_path / "o.npy").exists()


@pytest.mark.parametrize("option", [
    ["--threads", "0"], ["--threads", "-2"], ["--n-train", "0"], ["--test-repeats", "0"],
    ["--n-jobs", "0"], ["--seed", "-1"],
])
def test_bad_numbers_are_refused_by_the_parser(tmp_path, capsys, option):
    with pytest.raises(SystemExit) as exit_:
        main(["benchmark", "--out", str(tmp_path / "r"), *option])
    assert exit_.value.code == 2
    assert f"argument {option[0]}" in _error(capsys)
    assert not (tmp_path / "r").exists()


def test_threads_zero_is_refused_by_impute(tmp_path, capsys):
    np.save(tmp_path / "x.npy", np.array([[0.1, np.nan]]))
    with pytest.raises(SystemExit):
        main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "o.npy"), "--threads", "0"])
    assert "must be a positive integer" in _error(capsys)


def test_unknown_methods_and_parameters_fail_before_any_work(tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("data loaded before the options were checked")

    monkeypatch.setattr(_runner, "load_benchmark_data", no_work)
    out = tmp_path / "r"
    assert main(["benchmark", "--out", str(out), "--methods", "mean,nosuch", "--quiet",
                 *TINY_DIGITS]) == 1
    assert "Unknown method 'nosuch'" in _error(capsys)
    assert main(["benchmark", "--out", str(out), "--methods", "mean", "--quiet",
                 "--set", "params.mean.fill_value=\"x\"", *TINY_DIGITS]) == 1
    assert "method 'mean'" in _error(capsys)
    assert not out.exists()
    np.save(tmp_path / "x.npy", np.array([[0.1, np.nan]]))
    monkeypatch.setattr("skrbm_impute._cli._commands.read_input", no_work)
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "o.npy"),
                 "--method", "nosuch"]) == 1
    assert "Unknown method 'nosuch'" in _error(capsys)
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "o.txt"),
                 "--method", "mean"]) == 1
    assert "must be a .npy or .csv file" in _error(capsys)
