"""The results store under faults: concurrent runs, incomplete or damaged cells, torn
lines, NaN and duplicate rows, damaged models, refused reruns, lines kept on repair,
out-of-memory failures, SIGTERM."""

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest

from skrbm_impute.experiment import read_results, run_benchmark, summarize
from skrbm_impute.experiment._results import ResultsFile
from skrbm_impute.experiment import _runner
from skrbm_impute.experiment._lock import LOCK_NAME, OutputLock, OutputLockedError

REPO = Path(__file__).resolve().parents[1]

#: Seconds-long benchmark: 8x8 digits, Mean only (plus Diffusion where a test needs two
#: methods), FID on raw pixels.
SMALL = {
    "dataset": "digits",
    "n_train": 100,
    "n_test": 40,
    "mechanisms": ["IM"],
    "rates": [0.3],
    "n_test_repeats": 2,
    "methods": ["mean"],
    "n_examples": 2,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 20},
    "params": {"diffusion": {"n_iter": 5}},
}
N_METRICS = 4  # rmse, fid, accuracy, fit_seconds (Mean has no transform_hidden)


def _run(out, overrides=None, messages=None, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("plots", False)
    echo = messages.append if messages is not None else None
    return run_benchmark(SMALL, out, overrides=overrides, echo=echo, **kwargs)


def _lines(path):
    return Path(path).read_text().splitlines()


def _rejected(path):
    """The rejected file as ``[(reason, lines)]``: each batch below its ``# <time> <reason>``."""
    batches = []
    for line in _lines(path):
        if line.startswith("# "):
            stamp, reason = line[2:].split(" ", 1)
            assert stamp.endswith("+00:00"), line  # a UTC time
            batches.append((reason, []))
        else:
            batches[-1][1].append(line)
    return batches


# --- the lock ----------------------------------------------------------------------

LOCK_HOLDER = """
import sys, time
from pathlib import Path
from skrbm_impute.experiment._lock import OutputLock
with OutputLock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(120)
"""


def test_a_second_run_into_the_same_folder_is_refused_then_a_dead_holder_is_taken_over(
        tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    env = dict(os.environ, PYTHONPATH=str(REPO))
    holder = subprocess.Popen([sys.executable, "-c", LOCK_HOLDER, str(out)], env=env,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(OutputLockedError) as error:
            _run(out)
        message = str(error.value)
        assert f"pid {holder.pid}" in message and socket.gethostname() in message
        assert "started 20" in message  # the ISO start time
        assert not (out / "results.csv").exists()  # the refused run wrote nothing
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait()
    messages = []
    run = _run(out, messages=messages)  # the holder died without cleaning up
    assert run.n_computed == 1
    assert any(f"pid {holder.pid}" in m and "no longer running" in m for m in messages)
    assert (out / LOCK_NAME).read_text() == ""  # released: nothing to report next time
    messages.clear()
    _run(out, messages=messages)
    assert not any("no longer running" in m for m in messages)


def test_lock_held_in_this_process_refuses_the_cli_with_one_line(tmp_path, capsys):
    from skrbm_impute.__main__ import main

    preset = tmp_path / "p.json"
    preset.write_text(json.dumps(SMALL))
    with OutputLock(tmp_path, echo=None):
        assert main(["benchmark", "--preset", str(preset), "--out", str(tmp_path),
                     "--quiet", "--no-plots"]) == 1
    err = capsys.readouterr().err
    assert f"pid {os.getpid()}" in err and "another skrbm-impute benchmark run" in err


# --- what counts as finished -------------------------------------------------------

def test_a_cell_missing_a_metric_is_recomputed(tmp_path, monkeypatch):
    _run(tmp_path)
    results = ResultsFile(tmp_path / "results.csv")
    frame = results.read()
    assert len(frame) == 2 * N_METRICS
    results.rewrite(frame[frame["metric"] != "fid"])  # rmse rows still there
    computed = []
    original = _runner.run_cell
    monkeypatch.setattr(_runner, "run_cell",
                        lambda key, *a: computed.append(key) or original(key, *a))
    run = _run(tmp_path)
    assert run.n_computed == 1 and computed == [("mean", "IM", 0.3, 0)]
    final = read_results(tmp_path)
    assert len(final) == 2 * N_METRICS and set(final["metric"]) == {
        "rmse", "fid", "accuracy", "fit_seconds"}


def test_hidden_accuracy_is_required_of_estimators_with_transform_hidden(tmp_path):
    from skrbm_impute.experiment._runner import check_methods, load_preset

    config = load_preset(SMALL, {"methods": ["mean", "rbm"]})
    expected = check_methods(config)
    assert expected["mean"] == {"rmse", "fid", "accuracy", "fit_seconds"}
    assert expected["rbm"] == {"rmse", "fid", "accuracy", "fit_seconds", "hidden_accuracy"}
    np.save(tmp_path / "images.npy", np.zeros((10, 64)))
    config = load_preset(SMALL, {"methods": ["rbm"], "dataset": str(tmp_path / "images.npy")})
    assert check_methods(config)["rbm"] == {"rmse", "fid", "fit_seconds"}  # no labels


# --- torn, NaN and duplicate rows --------------------------------------------------

def test_a_torn_last_line_is_repaired_before_appending(tmp_path):
    _run(tmp_path)
    with open(tmp_path / "results.csv", "a") as f:
        f.write("mean,IM,0.6,0,0,rm")  # a line cut by a crash
    messages = []
    run = _run(tmp_path, {"rates": [0.3, 0.6]}, messages=messages)
    assert run.n_computed == 1 and run.n_skipped == 1
    assert any("torn last line" in m and "'mean,IM,0.6,0,0,rm'" in m for m in messages)
    lines = _lines(tmp_path / "results.csv")
    assert lines[0] == "method,mechanism,rate,train_repeat,test_repeat,metric,value"
    assert all(len(line.split(",")) == 7 for line in lines)  # nothing glued together
    assert len(lines) == 1 + 2 * 2 * N_METRICS


def test_duplicate_rows_are_dropped_with_a_message_and_not_counted(tmp_path):
    _run(tmp_path)
    path = tmp_path / "results.csv"
    lines = _lines(path)
    # what two runs into one folder wrote: every row twice, fit_seconds differing
    doubled = lines + [line.replace(",fit_seconds,", ",fit_seconds,9") for line in lines[1:]]
    path.write_text("\n".join(doubled) + "\n")
    assert (summarize(read_results(tmp_path))["count"] == 2).all()  # read never counts them
    messages = []
    run = _run(tmp_path, messages=messages)
    assert run.n_computed == 0
    assert any(f"dropped {len(lines) - 1} duplicate row(s)" in m for m in messages)
    assert _lines(path) == lines


def test_nan_rows_are_refused_and_their_cell_recomputed(tmp_path):
    _run(tmp_path)
    path = tmp_path / "results.csv"
    lines = _lines(path)
    rmse = next(i for i, line in enumerate(lines) if ",rmse," in line)
    lines[rmse] = lines[rmse].rsplit(",", 1)[0] + ",nan"
    path.write_text("\n".join(lines) + "\n")
    messages = []
    run = _run(tmp_path, messages=messages)
    assert run.n_computed == 1
    assert any("1 row(s) with a NaN or infinite value" in m for m in messages)
    frame = read_results(tmp_path)
    assert len(frame) == 2 * N_METRICS and np.isfinite(frame["value"]).all()
    with pytest.raises(ValueError, match="not finite"):
        ResultsFile(path).append([("mean", "IM", 0.3, 0, 0, "rmse", float("nan"))])
    assert len(read_results(tmp_path)) == 2 * N_METRICS


# --- models ------------------------------------------------------------------------

@pytest.mark.parametrize("damage", ["empty", "truncated"])
def test_a_damaged_saved_model_means_the_cell_is_redone(tmp_path, damage):
    _run(tmp_path)
    model = tmp_path / "models" / "mean__IM__0.3.joblib"
    data = model.read_bytes()
    model.write_bytes(b"" if damage == "empty" else data[: len(data) // 2])
    messages = []
    run = _run(tmp_path, messages=messages)
    assert run.n_computed == 1
    assert any("mean__IM__0.3.joblib is damaged" in m for m in messages)
    assert joblib.load(model).statistics_.shape == (64,)


def test_a_model_write_cut_short_leaves_no_model_and_no_finished_cell(tmp_path, monkeypatch):
    def dump_then_die(value, target):
        target.write(b"partial pickle")
        raise KeyboardInterrupt  # stands for a kill during the write

    monkeypatch.setattr(_runner.joblib, "dump", dump_then_die)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path)
    assert list((tmp_path / "models").iterdir()) == []  # no torn final file, no temp file
    assert not (tmp_path / "results.csv").exists()  # rows are written after the model
    monkeypatch.undo()
    assert _run(tmp_path).n_computed == 1
    assert joblib.load(tmp_path / "models" / "mean__IM__0.3.joblib") is not None


def test_leftover_temporary_model_files_are_removed_on_resume(tmp_path):
    _run(tmp_path)
    leftover = tmp_path / "models" / "mean__IM__0.6.joblib.tmp12345"
    leftover.write_bytes(b"half")
    _run(tmp_path)
    assert not leftover.exists()


# --- a refused rerun changes nothing -----------------------------------------------

FAILING = """
from skrbm_impute.impute import MeanImputer

class Diverging(MeanImputer):
    def fit(self, X, y=None):
        raise FloatingPointError("diverged in epoch 1")
"""


def test_a_refused_rerun_changes_nothing(tmp_path, monkeypatch):
    (tmp_path / "failing_estimator.py").write_text(FAILING)
    monkeypatch.syspath_prepend(str(tmp_path))
    out = tmp_path / "out"
    overrides = {"methods": ["mean", "bad"],
                 "params": {"bad": {"estimator": "failing_estimator:Diverging"}}}
    assert len(_run(out, overrides).failed) == 1
    with open(out / "results.csv", "a") as f:
        f.write("mean,IM,0.6,0,0,rm")  # a torn line the refused run must not touch either
    before = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    with pytest.raises(ValueError, match=r"other settings \(n_train\)"):
        _run(out, dict(overrides, n_train=90))
    after = {p.name: p.read_bytes() for p in out.rglob("*") if p.is_file()}
    assert after == before and "failed_cells.log" in after


# --- repairs lose nothing ----------------------------------------------------------

def test_a_hand_added_column_moves_every_line_to_the_rejected_file(tmp_path):
    _run(tmp_path)
    path = tmp_path / "results.csv"
    original = path.read_text()
    path.write_text("".join(line + ",note\n" for line in original.splitlines()))
    edited = path.read_text()
    messages = []
    run = _run(tmp_path, messages=messages)
    assert run.n_computed == 1  # the rows were unreadable: the cell is recomputed
    rejected = tmp_path / "results.rejected.csv"
    unreadable = f"dropped {len(edited.splitlines())} unreadable line(s)"
    assert _rejected(rejected) == [(unreadable, edited.splitlines())]  # as they were
    assert any(f"{unreadable}; moved to {rejected}" in m for m in messages)
    path.write_text(path.read_text() + "mean,IM,0.3,0,0,rmse,nan\n")
    _run(tmp_path)
    batches = _rejected(rejected)  # appended
    assert batches[0] == (unreadable, edited.splitlines())
    assert batches[1][0].startswith("dropped 1 row(s) with a NaN or infinite value")
    assert batches[1][1] == ["mean,IM,0.3,0,0,rmse,nan"] and len(batches) == 2


def test_torn_duplicate_and_nan_lines_are_kept_in_the_rejected_file(tmp_path):
    _run(tmp_path)
    path = tmp_path / "results.csv"
    lines = _lines(path)
    duplicate = lines[1].rsplit(",", 1)[0] + ",9.0"
    path.write_text("\n".join(lines + [duplicate, "mean,IM,0.3,0,1,fid,inf"]) + "\n"
                    + "mean,IM,0.6,0,0,rm")
    notes = ResultsFile(path).repair(echo=lambda message: None)
    assert _lines(path) == lines
    assert _rejected(tmp_path / "results.rejected.csv") == [
        (notes[0], ["mean,IM,0.3,0,1,fid,inf"]), (notes[1], [duplicate]),
        (notes[2], ["mean,IM,0.6,0,0,rm"])]
    assert [note.split(" (")[0] for note in notes] == [
        "dropped 1 row(s) with a NaN or infinite value", "dropped 1 duplicate row(s)",
        "dropped a torn last line 'mean,IM,0.6,0,0,rm'"]


def test_rows_of_cells_recomputed_on_resume_are_moved_to_the_rejected_file(tmp_path):
    _run(tmp_path, {"methods": ["mean", "diffusion"]})
    path, rejected = tmp_path / "results.csv", tmp_path / "results.rejected.csv"
    lines = _lines(path)
    diffusion = [line for line in lines if line.startswith("diffusion,")]
    assert len(diffusion) == 2 * N_METRICS
    # A third test repeat: both cells are unfinished, their rows go with the reason.
    messages = []
    run = _run(tmp_path, {"methods": ["mean", "diffusion"], "n_test_repeats": 3},
               messages=messages)
    assert run.n_computed == 2
    [(reason, moved)] = _rejected(rejected)
    assert reason == ("dropped on resume: rows of unfinished cell(s) (a metric or a test "
                      "repeat missing), recomputed: diffusion IM 0.3 0, mean IM 0.3 0")
    assert sorted(moved) == sorted(lines[1:])  # every row, exactly as it was
    assert any(f"Moved {len(lines) - 1} rows of unfinished cell(s)" in m
               and str(rejected) in m for m in messages)
    assert len(read_results(tmp_path)) == 2 * 3 * N_METRICS
    # A damaged model: its cell's rows go with that reason; the other cell stays.
    kept = _lines(path)
    (tmp_path / "models" / "diffusion__IM__0.3.joblib").write_bytes(b"")
    assert _run(tmp_path, {"methods": ["mean", "diffusion"], "n_test_repeats": 3}
                ).n_computed == 1
    reason, moved = _rejected(rejected)[1]
    assert reason == ("dropped on resume: rows of cell(s) whose saved model is damaged, "
                      "recomputed: diffusion IM 0.3 0")
    assert moved == [line for line in kept if line.startswith("diffusion,")]
    assert len(_rejected(rejected)) == 2


# --- running out of memory is an expected failure ----------------------------------

OUT_OF_MEMORY = """
import torch
from skrbm_impute.impute import MeanImputer

class CPUAllocation(MeanImputer):
    def fit(self, X, y=None):
        torch.empty(1 << 50, dtype=torch.uint8)  # torch's CPU allocator refuses 1 PiB

class CUDAAllocation(MeanImputer):
    def fit(self, X, y=None):
        raise torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 20.00 GiB")

class Bug(MeanImputer):
    def fit(self, X, y=None):
        raise RuntimeError("mat1 and mat2 shapes cannot be multiplied")
"""


def test_out_of_memory_is_an_expected_failure(tmp_path, monkeypatch):
    (tmp_path / "oom_estimators.py").write_text(OUT_OF_MEMORY)
    monkeypatch.syspath_prepend(str(tmp_path))
    names = {"cpu": "CPUAllocation", "cuda": "CUDAAllocation", "bug": "Bug"}
    overrides = {"methods": list(names), "params": {
        method: {"estimator": f"oom_estimators:{cls}"} for method, cls in names.items()}}
    messages = []
    run = _run(tmp_path / "out", overrides, messages=messages)
    assert len(run.failed) == 3
    log = (tmp_path / "out" / "failed_cells.log").read_text()
    headers = {line.split(" ", 1)[0]: line.split("\t")[1]
               for line in log.splitlines() if not line.startswith(" ")}
    assert headers == {"cpu": "expected", "cuda": "expected", "bug": "UNEXPECTED"}
    report = messages[-1]
    assert "2 expected failure(s)" in report and "1 UNEXPECTED failure(s)" in report
    assert "cpu IM 0.3 0: (out of memory) RuntimeError:" in report
    assert "cuda IM 0.3 0: (out of memory) OutOfMemoryError: CUDA out of memory" in report
    assert "DefaultCPUAllocator: can't allocate memory" in report


# --- SIGTERM is handled like SIGINT ------------------------------------------------

SLOW_ESTIMATOR = """
import sys, time
from skrbm_impute.impute import MeanImputer

class Slow(MeanImputer):
    def fit(self, X, y=None):
        print("fitting", file=sys.stderr, flush=True)
        time.sleep(120)
        return super().fit(X)
"""


def test_sigterm_clears_the_lock_record_and_says_how_to_resume(tmp_path):
    (tmp_path / "slow_estimator.py").write_text(SLOW_ESTIMATOR)
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps(dict(SMALL, methods=["mean", "slow"], params={
        "slow": {"estimator": "slow_estimator:Slow"}})))
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    run = subprocess.Popen(
        [sys.executable, "-m", "skrbm_impute", "benchmark", "--preset", str(preset),
         "--out", str(out), "--quiet", "--no-plots"],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        for line in run.stderr:  # the Mean cell is done when the slow one starts
            if line.strip() == "fitting":
                break
        assert (out / LOCK_NAME).read_text() != ""  # the record of the running run
        run.send_signal(signal.SIGTERM)
        stdout, stderr = run.communicate(timeout=60)
    finally:
        run.kill()
    assert run.returncode == 128 + signal.SIGTERM
    assert "Interrupted by SIGTERM" in stdout and "run the same command again to resume" in stdout
    assert "interrupted by SIGTERM" in stderr and "Traceback" not in stderr
    assert (out / LOCK_NAME).read_text() == ""  # cleared: the next run takes nothing over
    assert len(read_results(out)) == 2 * N_METRICS  # the finished Mean cell is kept
    messages = []
    _run(out, {"methods": ["mean"]}, messages=messages)
    assert not any("no longer running" in m for m in messages)
