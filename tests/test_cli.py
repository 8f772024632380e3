"""The command line under bad input: CSV headers and missing tokens, .npy kinds and
shapes, output onto the input, bad --model files, options checked first."""

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


# --- the CSV reader reads as pandas.read_csv does -----------------------------------

#: Tokens that once read differently from pandas, the edges of pandas' number syntax,
#: and (added in the test) pandas' whole default NA list.
CSV_TOKENS = [
    "NAN", "+nan", "nAn", " NA", "NA ", "1_0", "1", "-1", "+1", " 1.5 ", "\t2", "1.", ".",
    ".5", "1e5", "1E-3", "1.e2", "1e", "1e+", "e5", "-0", "0x10", "1d5", "True", "false",
    "1.5.2", "--1", "1 2", "  ", "abc", "\u0661", "12345678901234567890",
    "0.1000000000000000055511151231257827", "2.2250738585072014e-308", "5e-324",
    "1.7976931348623157e308",
]
INFINITE_TOKENS = ["inf", "-inf", "+inf", "Infinity", "-Infinity", "INF", "1e400"]


def _pandas_value(path):
    """What ``pd.read_csv`` with its defaults makes of the first field of ``path``'s first
    data row: a float (NaN for missing) or ``None`` when its column is not numeric (a
    bool or text column)."""
    column = pd.read_csv(path)["a"]
    if not pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column):
        return None
    return float(column.iloc[0])


@pytest.mark.parametrize("token", CSV_TOKENS + INFINITE_TOKENS + sorted(CSV_MISSING_TOKENS))
def test_csv_tokens_read_as_pandas_reads_them(tmp_path, capsys, token):
    import csv

    with open(tmp_path / "in.csv", "w", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows([["a", "b"], [token, "1"], ["0.5", "2"]])
    expected = _pandas_value(tmp_path / "in.csv")
    if expected is None or np.isinf(expected):
        with pytest.raises(ValueError) as error:
            read_input(tmp_path / "in.csv")
        message = str(error.value)
        assert "in.csv, line 2, column 1" in message
        assert ("is infinite" if expected is not None else "is neither a number") in message
    else:
        value = read_input(tmp_path / "in.csv").X[0, 0]
        np.testing.assert_equal(value, expected)  # NaN == NaN; bit-exact otherwise


def test_csv_byte_order_mark_blank_lines_and_long_fields(tmp_path):
    text = "\ufeffa,b\n0.1,\n\n   \n0.3,0.4\n"
    (tmp_path / "bom.csv").write_text(text, encoding="utf-8")
    data = read_input(tmp_path / "bom.csv")
    expected = pd.read_csv(tmp_path / "bom.csv")
    assert data.header == list(expected.columns) == ["a", "b"]  # no "\ufeffa"
    np.testing.assert_array_equal(data.X, expected.to_numpy())
    (tmp_path / "nobom.csv").write_text("\ufeff0.1,\n0.3,0.4\n", encoding="utf-8")
    data = read_input(tmp_path / "nobom.csv")
    assert data.header is None and data.X.shape == (2, 2) and np.isnan(data.X[0, 1])
    long = "1" + "0" * 199_999  # 1e199999: pandas reads it as inf
    (tmp_path / "long.csv").write_text(f"0.5,{long}\n0.5,0.5\n")
    with pytest.raises(ValueError, match=r"long.csv, line 1, column 2: '1000.*\(200000 "
                                         r"characters\) is infinite"):
        read_input(tmp_path / "long.csv")
    (tmp_path / "text.csv").write_text(f"0.5,0.5\n0.5,{'x' * 200_000}\n")
    with pytest.raises(ValueError, match=r"text.csv, line 2, column 2: 'xxx.*\(200000 "
                                         r"characters\) is neither a number"):
        read_input(tmp_path / "text.csv")


def test_bom_csv_is_imputed_from_the_command_line(tmp_path):
    (tmp_path / "in.csv").write_bytes(b"\xef\xbb\xbf0.1,0.2\n0.3,\n")
    assert main(["impute", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"),
                 "--method", "mean"]) == 0
    assert (tmp_path / "out.csv").read_text() == "0.1,0.2\n0.3,0.2\n"


# --- every error names its file -----------------------------------------------------

@pytest.mark.parametrize("name, content, message", [
    ("latin1.csv", b"0.1,0.2\n0.3,\xe9\n", "latin1.csv, line 2: not UTF-8 text (byte 0xe9)"),
    ("inf.csv", b"0.1,0.2\n0.3,-inf\n", "inf.csv, line 2, column 2: '-inf' is infinite"),
    ("ragged.csv", b"0.1,0.2\n0.3\n", "ragged.csv, line 2: 1 fields, but the first row has 2"),
    ("empty.csv", b"", "empty.csv: empty file"),
    ("header.csv", b"a,b\n", "header.csv: no data rows"),
    ("rows0.npy", np.zeros((0, 4)), "rows0.npy: no values to impute (shape (0, 4))"),
    ("cols0.npy", np.zeros((3, 0)), "cols0.npy: no values to impute (shape (3, 0))"),
    ("images0.npy", np.zeros((0, 2, 2)), "images0.npy: no values to impute"),
    ("inf.npy", np.array([[0.1, np.nan], [np.inf, 0.3]]),
     "inf.npy: 1 infinite value(s), the first at index (1, 0)"),
])
def test_unreadable_inputs_give_one_line_naming_the_file(tmp_path, capsys, name, content,
                                                          message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    assert main(["impute", str(path), str(tmp_path / "o.npy"), "--method", "mean"]) == 1
    err = _error(capsys)
    assert message in err and str(path) in err and len(err.splitlines()) == 1
    assert not (tmp_path / "o.npy").exists()


def test_a_damaged_preset_file_names_itself(tmp_path, capsys):
    (tmp_path / "p.json").write_text("{not json")
    assert main(["benchmark", "--preset", str(tmp_path / "p.json"), "--out",
                 str(tmp_path / "r")]) == 1
    assert "p.json' is not valid JSON" in _error(capsys)
    assert not (tmp_path / "r").exists()


# --- a bad device is a usage error, found before any work ---------------------------

@pytest.mark.parametrize("command", ["impute", "benchmark"])
@pytest.mark.parametrize("device, message", [("bogus", "'bogus'"), ("cuda:x", "'cuda:x'")])
def test_bad_device_option_is_a_usage_error(tmp_path, capsys, monkeypatch, command, device,
                                            message):
    monkeypatch.chdir(tmp_path)
    np.save("x.npy", np.array([[0.1, np.nan], [0.3, 0.4]]))
    argv = (["impute", "x.npy", "o.npy", "--method", "mean"] if command == "impute"
            else ["benchmark", "--out", "r", "--quiet", *TINY_DIGITS])
    with pytest.raises(SystemExit) as exit_:
        main(argv + ["--device", device])
    assert exit_.value.code == 2
    err = _error(capsys)
    assert "argument --device: " in err and message in err and "Traceback" not in err
    assert err.splitlines()[-1].startswith(f"skrbm-impute {command}: error: argument --device")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.npy"]  # nothing written


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="this machine has CUDA")
@pytest.mark.parametrize("command", ["impute", "benchmark"])
def test_cuda_where_there_is_none_is_a_usage_error_from_option_or_preset(
        tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    np.save("x.npy", np.array([[0.1, np.nan], [0.3, 0.4]]))
    argv = (["impute", "x.npy", "o.npy", "--method", "mean"] if command == "impute"
            else ["benchmark", "--out", "r", "--quiet", *TINY_DIGITS])
    with pytest.raises(SystemExit) as exit_:
        main(argv + ["--device", "cuda"])
    assert exit_.value.code == 2
    err = _error(capsys)
    assert "'cuda' was requested but CUDA is not available" in err
    (tmp_path / "p.toml").write_text('device = "cuda:1"\n')
    assert main(argv + ["--preset", "p.toml"]) == 2  # the preset's own device
    err = _error(capsys)
    assert "'cuda:1' was requested but CUDA is not available" in err
    assert len(err.splitlines()) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.toml", "x.npy"]


# --- every option and --set value is checked before any work ------------------------

@pytest.mark.parametrize("assignment, message", [
    ("seed=1.5", "seed must be a non-negative integer; got 1.5"),
    ("seed=-1", "seed must be a non-negative integer; got -1"),
    ("verbose=\"yes\"", "verbose must be true or false"),
    ("save_models=1", "save_models must be true or false"),
    ("mechanisms=\"IM\"", "mechanisms must be a list"),
    ("rates=[\"0.3\"]", "rates must be a list of numbers"),
    ("n_jobs=true", "n_jobs must be a non-zero integer"),
    ("image_shape=[8]", "image_shape must be [height, width]"),
    ("dataset=3", "dataset must be a string"),
    ("labels=3", "labels must be a file or folder path"),
    ("metrics.fid_batch_size=0", "metrics.fid_batch_size must be a positive integer"),
    ("metrics.classifier_max_iter=2.5", "metrics.classifier_max_iter must be a positive"),
    ("n_examples=1.0", "n_examples must be a non-negative integer"),
])
def test_set_values_are_type_checked_before_any_work(tmp_path, capsys, monkeypatch,
                                                     assignment, message):
    def no_work(*args, **kwargs):
        raise AssertionError("data loaded before the options were checked")

    monkeypatch.setattr(_runner, "load_benchmark_data", no_work)
    out = tmp_path / "r"
    assert main(["benchmark", "--out", str(out), "--quiet", *TINY_DIGITS,
                 "--set", assignment]) == 1
    assert message in _error(capsys)
    assert not out.exists()  # no config.json, no folder


def test_impute_file_options_are_checked_before_fitting(tmp_path, capsys, monkeypatch):
    def no_work(*args, **kwargs):
        raise AssertionError("data read before the options were checked")

    monkeypatch.setattr("skrbm_impute._cli._commands.read_input", no_work)
    np.save(tmp_path / "x.npy", np.array([[0.1, np.nan], [0.3, 0.4]]))
    (tmp_path / "folder.npy").mkdir()
    (tmp_path / "models").mkdir()
    cases = [
        (["--save-model", str(tmp_path / "models")], "--save-model", "is a folder"),
        (["--save-model", str(tmp_path / "no" / "m.joblib")], "--save-model",
         "its folder does not exist"),
        (["--save-model", str(tmp_path / "x.npy")], "--save-model", "is the input file"),
        (["--save-model", str(tmp_path / "o.npy")], "--save-model", "is the output file"),
    ]
    for extra, name, message in cases:
        assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "o.npy"),
                     "--method", "mean", *extra]) == 1
        err = _error(capsys)
        assert name in err and message in err and len(err.splitlines()) == 1
    assert main(["impute", str(tmp_path / "x.npy"), str(tmp_path / "folder.npy"),
                 "--method", "mean"]) == 1
    assert "output" in (err := _error(capsys)) and "is a folder" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.npy", "models", "x.npy"]
    assert list((tmp_path / "models").iterdir()) == []


# --- plot never destroys a summary ---------------------------------------------------

def _checksums(folder):
    import hashlib

    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("results, message", [
    ("", "results.csv: empty file"),
    ("method,mechanism,rate,train_repeat,test_repeat,metric,value\n",
     "results.csv: no readable result rows (only the header)"),
    ("a,b,c\n1,2,3\n", "its header is 'a,b,c'"),
    ("method,mechanism,rate,value\nmean,IM,0.3,1.0\n",
     "(it lacks train_repeat, test_repeat, metric)"),
    ("method,mechanism,rate,train_repeat,test_repeat,metric,value\nmean,IM,x,0,0,rmse,1\n",
     "no readable result rows (1 unreadable line(s))"),
])
def test_plot_refuses_a_results_file_without_results_and_changes_nothing(
        tmp_path, capsys, results, message):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.csv").write_text(results)
    (folder / "summary.md").write_text("# the summary of a long run\n| ... |\n")
    (folder / "config.json").write_text('{"methods": ["mean"]}\n')
    before = _checksums(folder)
    assert main(["plot", str(folder)]) == 1
    err = _error(capsys)
    assert str(folder / "results.csv") in err and message in err
    assert len(err.splitlines()) == 1
    assert _checksums(folder) == before


def test_plot_names_a_damaged_config_and_changes_nothing(tmp_path, capsys):
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "results.csv").write_text(
        "method,mechanism,rate,train_repeat,test_repeat,metric,value\n"
        "mean,IM,0.3,0,0,rmse,0.25\n")
    (folder / "config.json").write_text('{"methods": ["mean"')  # cut short
    (folder / "summary.md").write_text("# kept\n")
    before = _checksums(folder)
    assert main(["plot", str(folder / "results.csv"), "--out", str(tmp_path / "new")]) == 1
    err = _error(capsys)
    assert f"{folder / 'config.json'}: damaged, not valid JSON" in err
    assert _checksums(folder) == before and not (tmp_path / "new").exists()


def test_csv_values_are_bit_identical_to_pandas_on_random_long_tokens(tmp_path):
    rng = np.random.default_rng(0)
    tokens = [f"{'-' if rng.random() < 0.5 else ''}{rng.integers(10)}."
              + "".join(map(str, rng.integers(10, size=rng.integers(1, 25))))
              + f"e{rng.integers(-300, 301)}" for _ in range(2000)]
    (tmp_path / "long.csv").write_text("a\n" + "\n".join(tokens) + "\n")
    ours = read_input(tmp_path / "long.csv").X[:, 0]
    theirs = pd.read_csv(tmp_path / "long.csv")["a"].to_numpy()
    assert ours.view(np.uint64).tolist() == theirs.view(np.uint64).tolist()


# --- impute --model: training options are refused, --device applies -----------------

@pytest.fixture
def saved_models(tmp_path):
    """A fitted MeanImputer and a one-epoch LM-RBM saved with joblib, and an input file."""
    import joblib

    from skrbm_impute import LMRBMImputer, MeanImputer

    rng = np.random.default_rng(0)
    X = rng.uniform(size=(30, 16))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    np.save(tmp_path / "x.npy", X)
    joblib.dump(MeanImputer().fit(X), tmp_path / "mean.joblib")
    rbm = LMRBMImputer(n_components=4, n_epochs=1, batch_size=10, random_state=0).fit(X)
    joblib.dump(rbm, tmp_path / "rbm.joblib")
    return tmp_path


@pytest.mark.parametrize("option, reason", [
    (["--set", "params.lmrbm.n_epochs=5"], "keeps the settings it was fitted with"),
    (["--preset", "quick"], "keeps the settings it was fitted with"),
    (["--seed", "3"], "imputes the same way every time"),
    (["--image-shape", "4x4"], "keeps the image shape it was fitted with"),
    (["--verbose"], "shows training progress"),
])
def test_training_options_with_a_saved_model_are_a_usage_error(saved_models, capsys, option,
                                                               reason):
    assert main(["impute", str(saved_models / "x.npy"), str(saved_models / "o.npy"),
                 "--model", str(saved_models / "rbm.joblib"), *option]) == 2
    err = _error(capsys)
    assert len(err.splitlines()) == 1
    assert err.startswith(f"skrbm-impute impute: error: argument {option[0]}: not allowed "
                          "with --model")
    assert reason in err
    assert not (saved_models / "o.npy").exists()


def test_device_applies_to_a_saved_torch_model_and_is_refused_for_others(
        saved_models, capsys, monkeypatch):
    from skrbm_impute.impute._torch import BaseTorchImputer

    devices = []
    resolve = BaseTorchImputer._transform_device
    monkeypatch.setattr(BaseTorchImputer, "_transform_device",
                        lambda self: devices.append(self.device) or resolve(self))
    args = ["impute", str(saved_models / "x.npy"), str(saved_models / "o.npy")]
    assert main(args + ["--model", str(saved_models / "rbm.joblib"), "--device", "auto"]) == 0
    assert devices and set(devices) == {"auto"}  # the loaded model imputed with --device
    capsys.readouterr()
    devices.clear()
    assert main(args + ["--model", str(saved_models / "rbm.joblib")]) == 0
    assert set(devices) == {"cpu"}  # the device it was saved with
    (saved_models / "o.npy").unlink()
    assert main(args + ["--model", str(saved_models / "mean.joblib"), "--device", "cpu"]) == 2
    err = _error(capsys)
    assert "argument --device: the MeanImputer in" in err and "has no device parameter" in err
    assert not (saved_models / "o.npy").exists()


def test_device_for_a_method_without_one_is_a_usage_error(saved_models, capsys):
    args = ["impute", str(saved_models / "x.npy"), str(saved_models / "o.npy")]
    assert main(args + ["--method", "mean", "--device", "cpu"]) == 2
    err = _error(capsys)
    assert "argument --device: the MeanImputer of method 'mean' has no device parameter" in err
    assert not (saved_models / "o.npy").exists()


@pytest.mark.parametrize("source", ["saved", "preset"])
def test_threads_win_over_the_imputers_own_setting(saved_models, capsys, monkeypatch, source):
    from skrbm_impute.impute._torch import BaseTorchImputer

    seen = []
    threads = BaseTorchImputer._threads
    monkeypatch.setattr(BaseTorchImputer, "_threads",
                        lambda self: seen.append(self.n_threads) or threads(self))
    args = ["impute", str(saved_models / "x.npy"), str(saved_models / "o.npy")]
    if source == "saved":  # saved with the default n_threads="auto"
        args += ["--model", str(saved_models / "rbm.joblib")]
    else:  # a preset that sets n_threads itself
        args += ["--method", "lmrbm", "--set", "params.lmrbm.n_threads=2",
                 "--set", "params.lmrbm.n_epochs=1", "--set", "params.lmrbm.n_components=4"]
    assert main(args + ["--threads", "1"]) == 0
    assert seen and set(seen) == {1}
