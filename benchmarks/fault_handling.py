"""Reproduce every fault and hostile input the package guards against and print what happens.

Faults of a benchmark run (concurrent runs into one folder, a stale lock, torn, duplicated
or NaN result rows, damaged saved models, diverging training, a failing method), hostile
input (presets naming arbitrary callables, method names that are paths, downloads with the
wrong content) and bad command-line input.  Run it with the installed package of each
version to compare (``benchmarks/results/fault_handling/`` holds a run before the guards
and one after):

    OMP_NUM_THREADS=1 python benchmarks/fault_handling.py > out.md

Each item prints one markdown row ``| item | outcome |``.  Small data (8x8 digits,
the Mean imputer), so the whole script takes about a minute on one core.
"""

import importlib.util
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(tempfile.mkdtemp(prefix="skrbm-faults-"))
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [os.environ.get("PYTHONPATH", ""), str(HERE)]).strip(os.pathsep))
SMALL = {
    "dataset": "digits", "n_train": 100, "n_test": 40, "mechanisms": ["IM"], "rates": [0.3],
    "n_test_repeats": 2, "methods": ["mean"], "n_examples": 0,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 20},
}
(HERE / "small.json").write_text(json.dumps(SMALL))


def write_module(name, source):
    """Write module ``name`` into the scratch folder and import it in this process.

    The subprocesses find it through ``PYTHONPATH`` (``ENV``); this process registers it
    in ``sys.modules``, so that an ``estimator = "name:Class"`` preset entry resolves.
    """
    path = HERE / f"{name}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location(name, path)
    sys.modules[name] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(sys.modules[name])


write_module(
    "slowmean",
    "import time\nfrom skrbm_impute.impute import MeanImputer\n"
    "class Slow(MeanImputer):\n"
    "    def fit(self, X, y=None):\n        time.sleep(1.0)\n        return super().fit(X, y)\n"
    "class Diverging(MeanImputer):\n"
    "    def fit(self, X, y=None):\n        raise FloatingPointError('diverged in epoch 1')\n")


def short(text, n=230):
    text = " ".join(str(text).split()).replace("|", "/")
    return text if len(text) <= n else text[: n - 3] + "..."


def cli(*args, cwd=HERE):
    done = subprocess.run([sys.executable, "-m", "skrbm_impute", *args], cwd=cwd, env=ENV,
                          capture_output=True, text=True, timeout=600)
    lines = (done.stderr.strip() or done.stdout.strip()).splitlines()
    return f"exit {done.returncode}: {short(lines[-1] if lines else '')}"


def bench(out, overrides=None, **kwargs):
    from skrbm_impute.experiment import run_benchmark

    messages = []
    run = run_benchmark(SMALL, HERE / out, overrides=overrides, progress=False, plots=False,
                        echo=lambda *a: messages.append(" ".join(map(str, a))), **kwargs)
    return run, messages


def item(name):
    def wrap(function):
        try:
            outcome = function()
        except BaseException as exc:  # noqa: BLE001 - the outcome is the exception
            outcome = f"{type(exc).__name__}: {exc}"
        print(f"| {name} | {short(outcome)} |", flush=True)
        return function
    return wrap


print("| item | outcome |\n| --- | --- |")


@item("two concurrent runs into one --out")
def _():
    preset = dict(SMALL, methods=["slow"], rates=[0.3, 0.6],
                  params={"slow": {"estimator": "slowmean:Slow"}})
    (HERE / "slow.json").write_text(json.dumps(preset))
    args = [sys.executable, "-m", "skrbm_impute", "benchmark", "--preset",
            str(HERE / "slow.json"), "--out", str(HERE / "conc"), "--quiet", "--no-plots"]
    first = subprocess.Popen(args, env=ENV, cwd=HERE, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
    time.sleep(4)  # the first run is past its start-up
    second = subprocess.run(args, env=ENV, cwd=HERE, capture_output=True, text=True)
    first.communicate()
    from skrbm_impute.experiment import read_results

    lines = (HERE / "conc" / "results.csv").read_text().splitlines()
    rows = len(lines) - 1
    return (f"2nd run exit {second.returncode} ({short(second.stderr.strip()[-110:], 110)}); "
            f"results.csv rows {rows} (expected 16), read as {len(read_results(HERE / 'conc'))}")


@item("stale lock of a dead run")
def _():
    out = HERE / "stale"
    out.mkdir()
    (out / ".skrbm-impute.lock").write_text(json.dumps(
        {"pid": 999999, "host": "old-host", "started": "2026-01-01T00:00:00+00:00"}))
    run, messages = bench("stale")
    notes = [m for m in messages if "Taking over" in m]
    return f"computed {run.n_computed}; " + (notes[0] if notes else "no message")


@item("cell with rmse but no fid rows")
def _():
    from skrbm_impute.experiment._results import ResultsFile

    bench("metric")
    results = ResultsFile(HERE / "metric" / "results.csv")
    frame = results.read()
    results.rewrite(frame[frame["metric"] != "fid"])
    run, _ = bench("metric")
    return (f"rerun computed {run.n_computed} cell(s); fid rows now "
            f"{int((results.read()['metric'] == 'fid').sum())} (expected 2)")


@item("torn last line, then append")
def _():
    bench("torn")
    with open(HERE / "torn" / "results.csv", "a") as f:
        f.write("mean,IM,0.6,0,0,rm")
    _, messages = bench("torn", {"rates": [0.3, 0.6]})
    lines = (HERE / "torn" / "results.csv").read_text().splitlines()
    glued = [line for line in lines if len(line.split(",")) != 7]
    note = [m for m in messages if "torn" in m]
    return f"{len(glued)} glued line(s) {short(glued[:1], 50)}; " + (note[0] if note else "no message")


@item("every row duplicated / a NaN value")
def _():
    from skrbm_impute.experiment import read_results, summarize

    bench("dup")
    path = HERE / "dup" / "results.csv"
    lines = path.read_text().splitlines()
    nan_line = next(i for i, line in enumerate(lines) if ",rmse," in line)
    lines[nan_line] = lines[nan_line].rsplit(",", 1)[0] + ",nan"
    path.write_text("\n".join(lines + lines[1:]) + "\n")
    run, messages = bench("dup")
    counts = summarize(read_results(HERE / "dup"))["count"].unique().tolist()
    notes = "; ".join(m.split(": ", 1)[-1] for m in messages if "Repaired" in m)
    return f"recomputed {run.n_computed}; summary counts {counts} (expected [2]); {notes or 'no message'}"


@item("0-byte saved model")
def _():
    import joblib

    bench("model")
    model = HERE / "model" / "models" / "mean__IM__0.3.joblib"
    model.write_bytes(b"")
    run, messages = bench("model")
    try:
        joblib.load(model)
        state = "model loads"
    except Exception as exc:  # noqa: BLE001
        state = f"model still broken ({type(exc).__name__})"
    return f"rerun computed {run.n_computed}; {state}"


@item("refused rerun and failed_cells.log")
def _():
    overrides = {"methods": ["mean", "bad"], "params": {"bad": {"estimator": "slowmean:Diverging"}}}
    bench("refused", overrides)
    try:
        bench("refused", dict(overrides, n_train=90))
        refused = "not refused"
    except ValueError:
        refused = "refused"
    return f"{refused}; failed_cells.log exists: {(HERE / 'refused' / 'failed_cells.log').exists()}"


@item("failed_cells.log content")
def _():
    write_module(
        "buggy", "from skrbm_impute.impute import MeanImputer\nclass Buggy(MeanImputer):\n"
        "    def fit(self, X, y=None):\n        return {}['key']\n")
    bench("log", {"methods": ["bug"], "params": {"bug": {"estimator": "buggy:Buggy"}}})
    text = (HERE / "log" / "failed_cells.log").read_text()
    return (f"{len(text.splitlines())} line(s); traceback: {'Traceback' in text}; "
            f"first line: {text.splitlines()[0]!r}")


@item("MisGANImputer(learning_rate=1e6) / imputer_learning_rate=1e6")
def _():
    from skrbm_impute import MisGANImputer

    rng = np.random.RandomState(0)
    X = rng.uniform(size=(64, 16))
    X[rng.uniform(size=X.shape) < 0.3] = np.nan
    outcomes = []
    for param in ("learning_rate", "imputer_learning_rate"):
        try:
            out = MisGANImputer(architecture="fc", n_epochs=3, batch_size=16, latent_size=8,
                                random_state=0, **{param: 1e6}).fit_transform(X)
            outcomes.append(f"fit ok, {int(np.isnan(out).sum())} NaN out")
        except FloatingPointError as exc:
            outcomes.append(short(exc, 120))
    return " / ".join(outcomes)


@item("diverged MisGAN inside the benchmark")
def _():
    run, _ = bench("misgan", {"methods": ["misgan"], "params": {"misgan": {
        "architecture": "fc", "n_epochs": 3, "batch_size": 16, "latent_size": 8,
        "imputer_learning_rate": 1e6}}})
    return next(iter(run.failed.values()), "no failure")


@item("MeanImputer(fill_value=nan), DiffusionInpaintImputer(init=nan)")
def _():
    from skrbm_impute.impute import DiffusionInpaintImputer, MeanImputer

    X = np.array([[np.nan, 0.5, 0.5, 0.5]] * 3)
    outcomes = []
    for estimator in (MeanImputer(fill_value=np.nan),
                      DiffusionInpaintImputer(init=np.nan, n_iter=0, image_shape=(2, 2))):
        try:
            outcomes.append(f"{int(np.isnan(estimator.fit_transform(X)).sum())} NaN out")
        except ValueError as exc:
            outcomes.append(short(f"{type(exc).__name__}: {exc}", 90))
    return " / ".join(outcomes)


@item("impute a CSV with a header and NA / junk tokens")
def _():
    (HERE / "h.csv").write_text("a,b\n0.1,NA\n0.3,0.4\n0.5,0.6\n")
    first = cli("impute", "h.csv", "h_out.csv", "--method", "mean")
    out = (HERE / "h_out.csv").read_text().splitlines()[0] if (HERE / "h_out.csv").exists() else "-"
    (HERE / "j.csv").write_text("0.1,0.2\n0.3,abc\n")
    junk = cli("impute", "j.csv", "j_out.csv", "--method", "mean")
    return f"{first}; first output line {out!r}; junk token: {junk}"


@item("complex .npy")
def _():
    np.save(HERE / "c.npy", np.full((3, 4), 0.5 + 0.5j))
    return cli("impute", "c.npy", "c_out.npy", "--method", "mean")


@item("3-D .npy (5, 2, 3)")
def _():
    X = np.where(np.random.default_rng(0).random((5, 2, 3)) < 0.3, np.nan, 0.5)
    np.save(HERE / "i3.npy", X)
    outcome = cli("impute", "i3.npy", "i3_out.npy", "--method", "mean")
    shape = np.load(HERE / "i3_out.npy").shape if (HERE / "i3_out.npy").exists() else None
    return f"{outcome}; output shape {shape}"


@item("output path == input path")
def _():
    np.save(HERE / "same.npy", np.array([[0.1, np.nan], [0.3, 0.4]]))
    outcome = cli("impute", "same.npy", "same.npy", "--method", "mean")
    return f"{outcome}; input NaN kept: {bool(np.isnan(np.load(HERE / 'same.npy')).any())}"


@item("text file named .npy; --model dict / .npy / empty")
def _():
    import joblib

    (HERE / "t.npy").write_text("0.1,0.2\n")
    outcomes = [cli("impute", "t.npy", "o.npy", "--method", "mean")]
    joblib.dump({"a": 1}, HERE / "d.joblib")
    (HERE / "e.joblib").write_bytes(b"")
    np.save(HERE / "x.npy", np.array([[0.1, np.nan]]))
    for model in ("d.joblib", "x.npy", "e.joblib"):
        outcomes.append(cli("impute", "x.npy", "o.npy", "--model", model))
    return " // ".join(short(o, 70) for o in outcomes)


@item("--threads 0; unknown method name")
def _():
    a = cli("impute", "x.npy", "o.npy", "--method", "mean", "--threads", "0")
    start = time.perf_counter()
    b = cli("benchmark", "--preset", str(HERE / "small.json"), "--methods", "mean,nosuch",
            "--out", "unknown", "--quiet", "--no-plots")
    return f"{short(a, 80)} // {short(b, 90)} ({time.perf_counter() - start:.1f} s)"


@item("method named ../../escaped")
def _():
    params = {"../../escaped": {"estimator": "skrbm_impute.impute:MeanImputer"}}
    try:
        bench("deep/er/out", {"methods": ["../../escaped"], "params": params})
    except ValueError as exc:
        return f"ValueError: {exc}"
    escaped = list((HERE / "deep").rglob("*escaped*"))
    return f"ran; files outside --out: {[str(p.relative_to(HERE)) for p in escaped]}"


@item("--set params.x.estimator=os:system (benchmark, impute); fid_features=os:system")
def _():
    sets = ["--set", "params.x.estimator=os:system", "--set", "params.x.command=touch pwned"]
    a = cli("benchmark", "--preset", str(HERE / "small.json"), "--methods", "x", "--out",
            "sys", "--quiet", "--no-plots", *sets)
    pwned_a = (HERE / "pwned").exists()
    (HERE / "pwned").unlink(missing_ok=True)
    b = cli("impute", "x.npy", "o.npy", "--method", "x", *sets)
    pwned_b = (HERE / "pwned").exists()
    c = cli("benchmark", "--preset", str(HERE / "small.json"), "--out", "fidsys", "--quiet",
            "--no-plots", "--set", "metrics.fid_features=\"os:system\"")
    return (f"benchmark ran shell: {pwned_a}, impute ran shell: {pwned_b}; "
            f"impute says {short(b, 60)}; fid_features: {short(c, 70)}")


@item("--help states trust")
def _():
    done = subprocess.run([sys.executable, "-m", "skrbm_impute", "impute", "--help"], env=ENV,
                          cwd=HERE, capture_output=True, text=True)
    text = " ".join(done.stdout.split())
    return f"'trusted code' in help: {'trusted code' in text}; 'only files you' : {'files you made or trust' in text}"


@item("InceptionV3 download with wrong content")
def _():
    import email.message

    import torch

    from skrbm_impute.metrics import InceptionFeatures

    class Response(io.BytesIO):
        def info(self):
            message = email.message.Message()
            message["Content-Length"] = str(len(self.getvalue()))
            return message

    torch.hub.urlopen = lambda request: Response(b"forged weights")
    torch.hub.set_dir(str(HERE / "hub"))
    try:
        InceptionFeatures()._state_dict()
        return "accepted"
    except Exception as exc:  # noqa: BLE001
        cached = list((HERE / "hub" / "checkpoints").glob("*"))
        return f"{type(exc).__name__}: {short(exc, 90)}; cache files {len(cached)}"


@item("float16 input")
def _():
    from skrbm_impute.impute import MeanImputer

    X = np.ones((70_000, 2), dtype=np.float16)
    X[0, 0] = np.nan
    imputer = MeanImputer().fit(X)
    return f"output dtype {imputer.transform(X[:2]).dtype}, statistics_ {imputer.statistics_}"


@item("object DataFrame with pd.NA")
def _():
    import pandas as pd

    from skrbm_impute.impute import MeanImputer

    frame = pd.DataFrame([[0.5, 0.1], [pd.NA, 0.2]], columns=["a", "b"], dtype=object)
    return f"{MeanImputer().fit_transform(frame).tolist()}"
