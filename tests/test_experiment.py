"""The benchmark: presets, registry, runner (resume, kill, settings guard), results, CLI."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skrbm_impute.__main__ import main
from skrbm_impute.experiment import (
    compare_with_paper,
    list_presets,
    load_preset,
    make_imputer,
    read_results,
    run_benchmark,
    summarize,
)
from skrbm_impute.experiment import _runner
from skrbm_impute.experiment._methods import METHODS
from skrbm_impute.experiment._results import ratios_to
from skrbm_impute.experiment._runner import benchmark_cells, derive_seed
from skrbm_impute.experiment._presets import parse_assignment
from skrbm_impute.masks import apply_mask, make_mask

REPO = Path(__file__).resolve().parents[1]

#: A benchmark on scikit-learn's 8x8 digits that takes seconds: FID on raw pixels (the
#: MNIST LeNet needs 28x28 images).
TINY = {
    "dataset": "digits",
    "n_train": 150,
    "n_test": 60,
    "mechanisms": ["IM", "PM"],
    "rates": [0.3, 0.6],
    "n_train_repeats": 1,
    "n_test_repeats": 2,
    "methods": ["mean", "diffusion"],
    "n_examples": 4,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 50},
    "params": {"diffusion": {"n_iter": 20}},
}


def _run(out, overrides=None, **kwargs):
    kwargs.setdefault("progress", False)
    kwargs.setdefault("echo", None)
    return run_benchmark(TINY, out, overrides=overrides, **kwargs)


def _n_cells(frame):
    return len(frame[["method", "mechanism", "rate", "train_repeat"]].drop_duplicates())


def _sorted(frame):
    return frame.sort_values(list(frame.columns[:6])).reset_index(drop=True)


# --- presets -----------------------------------------------------------------------

def test_shipped_presets_load_and_cover_the_study():
    assert list_presets() == ["quick", "cpu", "paper"]
    for name in list_presets():
        config = load_preset(name)
        # the default run shows the paper's five methods; the longer presets add the
        # second reading of [5]
        assert config["methods"] == (["mean", "diffusion", "misgan", "rbm", "lmrbm"]
                                     if name == "quick" else
                                     ["mean", "diffusion", "misgan", "rbm", "rbm-bm", "lmrbm"])
        # both readings of [5] train like the other RBMs of the preset
        assert config["params"].get("rbm-bm", config["params"]["rbm"]) == config["params"]["rbm"]
        assert config["params"]["lmrbm"] == config["params"]["rbm"]  # LM vs [5]: same settings
        assert config["mechanisms"] == ["IM", "SO", "PM"]
    quick = load_preset("quick")
    assert quick["dataset"] == "mnist-sample" and quick["device"] == "cpu"
    assert (quick["n_train"], quick["n_test"]) == (3000, 500)
    # the RBMs train with the estimators' defaults
    assert quick["params"]["rbm"] == quick["params"]["lmrbm"] == {}
    # MisGAN's budgets on a CPU are counted in batches, whatever the training set's size
    for name in ("quick", "cpu"):
        misgan = load_preset(name)["params"]["misgan"]
        assert "n_epochs" not in misgan and 0 < misgan["max_iter"] < 390_000
    paper = load_preset("paper")
    assert paper["dataset"] == "mnist"
    assert (paper["n_train"], paper["n_test"]) == (50_000, 10_000)
    assert paper["rates"] == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9])
    assert (paper["n_train_repeats"], paper["n_test_repeats"]) == (3, 10)
    for rbm in ("rbm", "rbm-bm", "lmrbm"):
        params = paper["params"][rbm]
        assert (params["n_components"], params["n_epochs"]) == (4096, 500)
        assert (params["batch_size"], params["learning_rate"]) == (128, 1e-4)
        # the paper's plain step, whatever the estimators' defaults
        assert (params["momentum"], params["learning_rate_schedule"]) == (0.0, "constant")
        assert params["cd_statistics"] == "sampled"  # Algorithm 1's draws
    misgan = paper["params"]["misgan"]
    assert (misgan["architecture"], misgan["n_epochs"], misgan["batch_size"]) == ("conv", 500, 64)


def test_shipped_presets_use_the_default_pm_geometry_and_diffusion_border():
    from skrbm_impute.experiment._runner import pm_geometry

    for name in list_presets():
        config = load_preset(name)
        np.testing.assert_array_equal(
            make_mask("PM", 20, (28, 28), 0.6, random_state=0, **pm_geometry(config)),
            make_mask("PM", 20, (28, 28), 0.6, random_state=0))
        assert "mode" not in config["params"]["diffusion"]
    assert pm_geometry(load_preset("quick", {"pm_patch_size": 6}))["patch_size"] == (6, 6)


def test_preset_files_dicts_and_overrides(tmp_path):
    text = 'dataset = "digits"\nrates = [0.6, 0.3, 0.6]\n[params.lmrbm]\nn_epochs = 3\n'
    (tmp_path / "mine.toml").write_text(text)
    config = load_preset(tmp_path / "mine.toml",
                         overrides=[parse_assignment("params.lmrbm.rank=8")])
    assert config["dataset"] == "digits"
    assert config["rates"] == [0.3, 0.6]  # sorted, deduplicated
    assert config["params"]["lmrbm"] == {"n_epochs": 3, "rank": 8}
    (tmp_path / "mine.json").write_text(json.dumps({"mechanisms": ["I.M.", "s.o."]}))
    assert load_preset(tmp_path / "mine.json")["mechanisms"] == ["IM", "SO"]
    assert parse_assignment("rates=[0.1, 0.2]") == {"rates": [0.1, 0.2]}
    assert parse_assignment("params.misgan.architecture=fc") == {
        "params": {"misgan": {"architecture": "fc"}}}


@pytest.mark.parametrize("overrides, message", [
    ({"n_epochs": 3}, "Unknown preset key 'n_epochs'"),
    ({"rates": [0.0, 0.5]}, "strictly inside"),
    ({"mechanisms": ["XX"]}, "Unknown mechanism"),
    ({"n_test_repeats": 0}, "n_test_repeats must be a positive integer"),
    ({"metrics": {"fid": 1}}, "Unknown metrics setting"),
    ({"pm_patch_size": [0, 4]}, "pm_patch_size"),
    ({"pm_placement": "centre"}, "pm_placement"),
    ({"pm_count_rounding": "up"}, "pm_count_rounding"),
])
def test_bad_presets_are_named(overrides, message):
    with pytest.raises(ValueError, match=message):
        load_preset("quick", overrides)


def test_unknown_preset_name():
    with pytest.raises(ValueError, match="neither a shipped preset"):
        load_preset("no-such-preset")


# --- registry ----------------------------------------------------------------------

def test_make_imputer_passes_only_accepted_runner_settings():
    imputer = make_imputer("diffusion", {"n_iter": 7}, image_shape=(8, 8), device="cpu",
                           random_state=3, verbose=True)
    assert (imputer.n_iter, imputer.image_shape) == (7, (8, 8))
    # A preset's own value wins over the runner's.
    imputer = make_imputer("diffusion", {"image_shape": [4, 16]}, image_shape=(8, 8))
    assert imputer.image_shape == (4, 16)
    custom = make_imputer("knn", {"estimator": "sklearn.impute:KNNImputer", "n_neighbors": 2,
                                  "label": "kNN"}, image_shape=(8, 8), random_state=0)
    assert type(custom).__name__ == "KNNImputer" and custom.n_neighbors == 2
    with pytest.raises(ValueError, match="has no parameter"):
        make_imputer("mean", {"n_epochs": 3})
    with pytest.raises(ValueError, match="Unknown method"):
        make_imputer("nope")
    with pytest.raises(ImportError, match="no attribute"):
        make_imputer("x", {"estimator": "sklearn.impute:Nope"})
    assert set(METHODS) == {"mean", "diffusion", "misgan", "rbm", "rbm-bm", "lmrbm"}


def test_both_readings_of_ref_5_are_methods():
    settings = {"n_components": 8, "n_epochs": 2, "learning_rate": 0.02}
    no_bm = make_imputer("rbm", settings)
    with_bm = make_imputer("rbm-bm", settings)
    lm = make_imputer("lmrbm", settings)
    assert type(no_bm).__name__ == "MaskedRBMImputer"
    assert type(with_bm).__name__ == "LMRBMImputer" and with_bm.gradient_correction is False
    assert type(lm).__name__ == "LMRBMImputer" and lm.gradient_correction is True
    assert with_bm.n_components == 8 and METHODS["rbm-bm"].defaults == {
        "gradient_correction": False}
    # the same masked data give three different models
    X = apply_mask(np.random.RandomState(0).random_sample((40, 16)),
                   make_mask("IM", 40, (4, 4), 0.5, random_state=0))
    outs = [m.set_params(random_state=0).fit(X).transform(X) for m in (no_bm, with_bm, lm)]
    assert not np.allclose(outs[0], outs[1]) and not np.allclose(outs[1], outs[2])


# --- runner ------------------------------------------------------------------------

def test_benchmark_writes_tidy_results_summary_and_figures(tmp_path):
    run = _run(tmp_path)
    frame = read_results(tmp_path)
    n_cells = 2 * 2 * 2  # methods x mechanisms x rates (1 training repeat)
    assert run.n_computed == n_cells and run.n_skipped == 0
    assert list(frame.columns) == ["method", "mechanism", "rate", "train_repeat",
                                   "test_repeat", "metric", "value"]
    # rmse, fid, accuracy, fit_seconds per repeat pair (no RBM: no hidden accuracy).
    assert len(frame) == n_cells * 2 * 4
    assert set(frame["metric"]) == {"rmse", "fid", "accuracy", "fit_seconds"}
    assert frame["value"].notna().all()
    for name in ("summary.md", "config.json", "curves.png", "perception_distortion.png",
                 "examples.png"):
        assert (tmp_path / name).stat().st_size > 1000 or name == "config.json"
    summary_text = (tmp_path / "summary.md").read_text()
    assert "| RMSE | Mean | Inpaint |" in summary_text and "| I.M. 0.3 |" in summary_text
    assert sorted(p.name for p in (tmp_path / "models").iterdir())[0] == "diffusion__IM__0.3.joblib"


def test_benchmark_metrics_match_an_independent_recomputation(tmp_path):
    """Recompute one cell from the documented seeds with plain NumPy and scikit-learn."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import train_test_split
    from skrbm_impute.datasets import load_digits_01

    _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.6], "methods": ["mean"]})
    frame = read_results(tmp_path).set_index(["test_repeat", "metric"])["value"]
    X, y = load_digits_01()
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, train_size=150, test_size=60, stratify=y, random_state=0)
    train_mask = make_mask("IM", 150, (8, 8), 0.6,
                           random_state=derive_seed(0, "train-mask", "IM", 0.6, 0))
    observed = np.where(train_mask, 0.0, X_train)
    counts = (~train_mask).sum(axis=0)
    column_mean = np.divide(observed.sum(axis=0), counts, out=np.zeros(64), where=counts > 0)
    X_train_imputed = np.where(train_mask, column_mean, X_train)
    classifier = LogisticRegression(max_iter=50).fit(X_train_imputed, y_train)
    for test_repeat in range(2):
        mask = make_mask("IM", 60, (8, 8), 0.6,
                         random_state=derive_seed(0, "test-mask", "IM", 0.6, 0, test_repeat))
        imputed = np.where(mask, column_mean, X_test)
        per_image = [np.sqrt(np.mean((imputed[i, mask[i]] - X_test[i, mask[i]]) ** 2))
                     for i in range(60) if mask[i].any()]
        assert frame[(test_repeat, "rmse")] == pytest.approx(np.mean(per_image), rel=1e-12)
        expected_accuracy = 100 * classifier.score(imputed, y_test)
        assert frame[(test_repeat, "accuracy")] == pytest.approx(expected_accuracy)
        # FID on raw pixels: Frechet distance of the two Gaussians (scipy reference).
        from scipy import linalg
        mu1, mu2 = X_test.mean(0), imputed.mean(0)
        s1, s2 = np.cov(X_test, rowvar=False), np.cov(imputed, rowvar=False)
        covmean = linalg.sqrtm((s1 + 1e-6 * np.eye(64)) @ (s2 + 1e-6 * np.eye(64))).real
        reference = np.sum((mu1 - mu2) ** 2) + np.trace(s1 + s2 - 2 * covmean)
        assert frame[(test_repeat, "fid")] == pytest.approx(reference, rel=2e-2, abs=1e-3)


def test_rerun_skips_finished_cells_and_extends_axes(tmp_path, monkeypatch):
    _run(tmp_path, {"rates": [0.3]})
    first = read_results(tmp_path)
    computed = []
    original = _runner.run_cell
    monkeypatch.setattr(_runner, "run_cell",
                        lambda key, *a: computed.append(key) or original(key, *a))
    run = _run(tmp_path)  # rates 0.3 and 0.6
    assert run.n_skipped == 4 and run.n_computed == 4
    assert {key[2] for key in computed} == {0.6}
    final = read_results(tmp_path)
    kept = final[final["rate"] == 0.3]
    pd.testing.assert_frame_equal(_sorted(kept), _sorted(first))
    computed.clear()
    assert _run(tmp_path).n_computed == 0 and computed == []


def test_more_test_repeats_recompute_cells_and_drop_their_old_rows(tmp_path):
    _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3]})
    run = _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3], "n_test_repeats": 3})
    assert run.n_computed == 2
    frame = read_results(tmp_path)
    assert len(frame) == 2 * 3 * 4  # no duplicated rows of the first two test repeats
    assert not frame.duplicated(["method", "mechanism", "rate", "train_repeat", "test_repeat",
                                 "metric"]).any()


def test_changed_settings_are_refused_unless_overwritten(tmp_path):
    _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3]})
    with pytest.raises(ValueError, match=r"other settings \(params.diffusion\)"):
        _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3],
                        "params": {"diffusion": {"n_iter": 5}}})
    with pytest.raises(ValueError, match=r"other settings \(n_train\)"):
        _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3], "n_train": 100})
    run = _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3], "n_train": 100,
                          "methods": ["mean"]}, overwrite=True)
    assert run.n_computed == 1 and run.n_skipped == 0
    assert [p.name for p in (tmp_path / "models").iterdir()] == ["mean__IM__0.3.joblib"]


SLOW_MODULE = '''
import time
from skrbm_impute.impute import MeanImputer

class SlowMeanImputer(MeanImputer):
    """The Mean imputer, slowed down so that a run can be killed between cells."""

    def fit(self, X, y=None):
        time.sleep(0.7)
        return super().fit(X, y)
'''


def test_killed_run_resumes_where_it_stopped(tmp_path, monkeypatch):
    """Kill a benchmark subprocess after its first cells; the rerun computes only the rest
    and ends with the same results as an uninterrupted run."""
    (tmp_path / "slowimputer.py").write_text(SLOW_MODULE)
    preset = dict(TINY, methods=["slow", "mean"], rates=[0.3, 0.6, 0.9],
                  params={"slow": {"estimator": "slowimputer:SlowMeanImputer"}})
    (tmp_path / "preset.json").write_text(json.dumps(preset))
    out = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(tmp_path)]))
    process = subprocess.Popen(
        [sys.executable, "-m", "skrbm_impute", "benchmark", "--preset",
         str(tmp_path / "preset.json"), "--out", str(out), "--quiet", "--no-plots"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    results = out / "results.csv"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if results.exists() and _n_cells(read_results(results)) >= 2:
            break
        time.sleep(0.05)
    assert process.poll() is None, "the run finished before it could be killed"
    process.send_signal(signal.SIGKILL)
    process.wait()
    n_done = _n_cells(read_results(results))
    n_cells = len(benchmark_cells(load_preset(preset)))
    assert 2 <= n_done < n_cells

    monkeypatch.syspath_prepend(str(tmp_path))
    resumed = run_benchmark(tmp_path / "preset.json", out, progress=False, echo=None, plots=False)
    assert resumed.n_skipped == n_done and resumed.n_computed == n_cells - n_done
    fresh = run_benchmark(tmp_path / "preset.json", tmp_path / "fresh", progress=False,
                          echo=None, plots=False)
    assert fresh.n_computed == n_cells
    columns = ["method", "mechanism", "rate", "train_repeat", "test_repeat", "metric"]
    a = _sorted(read_results(out)).drop(columns="value")
    b = _sorted(read_results(tmp_path / "fresh")).drop(columns="value")
    pd.testing.assert_frame_equal(a, b)
    no_timing = "metric != 'fit_seconds'"
    values_a = _sorted(read_results(out)).query(no_timing)["value"].to_numpy()
    values_b = _sorted(read_results(tmp_path / "fresh")).query(no_timing)["value"].to_numpy()
    np.testing.assert_allclose(values_a, values_b, rtol=1e-9)
    assert len(read_results(out).drop_duplicates(columns)) == len(read_results(out))


FAILING_MODULE = '''
import numpy as np
from skrbm_impute.impute import MeanImputer

class DivergingImputer(MeanImputer):
    """Fails as a diverging model does."""

    def fit(self, X, y=None):
        raise FloatingPointError("training produced non-finite weights in epoch 3")

class BuggyImputer(MeanImputer):
    """Fails as a bug does."""

    def fit(self, X, y=None):
        return {}["no such key"]

class NaNImputer(MeanImputer):
    """Fits, then returns NaN as a diverged model would."""

    def transform(self, X):
        return np.full(np.shape(X), np.nan)
'''


def test_a_failing_cell_is_reported_and_retried_without_stopping_the_run(
        tmp_path, capsys, monkeypatch):
    (tmp_path / "failing.py").write_text(FAILING_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    params = {"bad": {"estimator": "failing:DivergingImputer"},
              "bug": {"estimator": "failing:BuggyImputer"},
              "nan": {"estimator": "failing:NaNImputer"}}
    overrides = {"rates": [0.3], "methods": ["mean", "bad", "bug", "nan"], "params": params}
    out = tmp_path / "out"
    run = _run(out, overrides)
    assert run.n_computed == 2 and len(run.failed) == 6
    assert "epoch 3" in run.failed[("bad", "IM", 0.3, 0)]
    assert "KeyError" in run.failed[("bug", "IM", 0.3, 0)]
    # the real cause, not "Input X contains NaN" from the classifier fitted next
    assert run.failed[("nan", "IM", 0.3, 0)].startswith("FloatingPointError: method 'nan'")
    assert set(read_results(out)["method"]) == {"mean"}
    log = (out / "failed_cells.log").read_text()
    headers = [line.split("\t") for line in log.splitlines() if not line.startswith(" ")]
    assert len(headers) == 6
    kinds = {fields[0]: fields[1] for fields in headers}
    assert kinds["bad IM 0.3 0"] == "expected" and kinds["nan PM 0.3 0"] == "expected"
    assert kinds["bug IM 0.3 0"] == "UNEXPECTED"
    assert "Traceback (most recent call last):" in log and 'in fit\n' in log
    rerun = _run(out, overrides)
    assert rerun.n_skipped == 2 and len(rerun.failed) == 6  # retried, failing again
    _run(out, dict(overrides, methods=["mean"]))
    assert not (out / "failed_cells.log").exists()
    preset = tmp_path / "p.json"
    preset.write_text(json.dumps(dict(TINY, **overrides)))
    assert main(["benchmark", "--preset", str(preset), "--out", str(out), "--quiet"]) == 1
    printed = capsys.readouterr().out
    assert "6 cell(s) failed" in printed
    assert "4 expected failure(s)" in printed and "2 UNEXPECTED failure(s)" in printed


def test_torn_last_line_is_dropped(tmp_path):
    _run(tmp_path, {"mechanisms": ["IM"], "rates": [0.3]})
    with open(tmp_path / "results.csv", "a") as f:
        f.write("mean,IM,0.6,0,0,rm")  # a line cut by a crash
    assert len(read_results(tmp_path)) == 2 * 2 * 4


# --- summaries ---------------------------------------------------------------------

def _synthetic_frame():
    rows = []
    rng = np.random.default_rng(0)
    for method, scale in (("mean", 1.0), ("lmrbm", 0.5), ("rbm", 0.6), ("misgan", 0.7)):
        for t in range(4):
            for metric in ("rmse", "fid"):
                base = 0.25 if metric == "rmse" else 50
                value = scale * base * (1 + 0.01 * rng.standard_normal())
                rows.append((method, "IM", 0.9, 0, t, metric, value))
    return pd.DataFrame(rows, columns=["method", "mechanism", "rate", "train_repeat",
                                       "test_repeat", "metric", "value"])


def test_summaries_and_ratios_against_numpy():
    frame = _synthetic_frame()
    summary = summarize(frame).set_index(["method", "metric"])
    values = frame[(frame.method == "rbm") & (frame.metric == "fid")]["value"].to_numpy()
    assert summary.loc[("rbm", "fid"), "mean"] == pytest.approx(values.mean())
    assert summary.loc[("rbm", "fid"), "se"] == pytest.approx(values.std(ddof=1) / 2)
    ratios = ratios_to(frame).set_index(["method", "metric"])
    wide = frame.pivot_table(index=["test_repeat", "metric"], columns="method", values="value")
    expected = (wide["lmrbm"] / wide["mean"]).xs("rmse", level="metric")
    assert ratios.loc[("lmrbm", "rmse"), "mean"] == pytest.approx(expected.mean())
    assert ratios.loc[("mean", "rmse"), "mean"] == 1.0


def test_paper_comparison_has_both_readings_of_ref_5():
    frame = _synthetic_frame()
    extra = frame[frame.method == "rbm"].assign(method="rbm-bm")
    extra["value"] *= 1.5  # far from the paper's [5] ratios (0.89 RMSE, 0.46 FID)
    frame = pd.concat([frame, extra])
    text = compare_with_paper(frame)
    assert "| cell | Mean | MisGAN | RBM [5] | RBM [5] +b_m | RBM LM |" in text
    assert "| LM-RBM RMSE < RBM [5] +b_m | I.M. 0.9 |" in text

    def ratio(method, metric):  # mean over repeats of method / Mean on the same masks
        part = frame[frame.metric == metric].pivot_table(
            index="test_repeat", columns="method", values="value")
        return float((part[method] / part["mean"]).mean())

    paper_5 = {"rmse": .228 / .257, "fid": 53 / 115}  # Table 1, I.M. 0.9, [5] / Mean
    paper_lm = {"rmse": .222 / .257, "fid": 46 / 115}
    for metric in ("rmse", "fid"):
        # both readings face the paper's [5] column
        row = next(line for line in text.splitlines()
                   if line.startswith("| I.M. 0.9") and f"/ {paper_5[metric]:.2f} | " in line)
        cells = row.split("|")  # "", cell, Mean, MisGAN, RBM [5], RBM [5] +b_m, RBM LM, ""
        assert cells[4].strip() == f"{ratio('rbm', metric):.2f} ± 0.00 / {paper_5[metric]:.2f}"
        assert cells[5].strip().startswith(f"{ratio('rbm-bm', metric):.2f} ± ")
        assert cells[5].strip().endswith(f"/ {paper_5[metric]:.2f}")
        gaps = [abs(ratio(m, metric) - paper_5[metric]) for m in ("rbm", "rbm-bm")]
        assert (f"| {metric.upper()} ratio to Mean | {gaps[0]:.3f} | {gaps[1]:.3f} | 1 |"
                in text)
        gaps = [abs(ratio("lmrbm", metric) / ratio(m, metric) - paper_lm[metric] / paper_5[metric])
                for m in ("rbm", "rbm-bm")]
        assert (f"| {metric.upper()} LM-RBM / [5] | {gaps[0]:.3f} | {gaps[1]:.3f} | 1 |"
                in text)
    assert "most resembles `rbm` (closer on 3 of 4 measures)" in text
    assert "Which reading" not in compare_with_paper(_synthetic_frame())


def test_paper_comparison_reports_ratios_and_orderings():
    text = compare_with_paper(_synthetic_frame())
    assert "| I.M. 0.9 |" in text
    # paper: RBM LM / Mean FID at I.M. 0.9 = 46 / 115 = 0.40
    assert "0.50 ± 0.00 / 0.40" in text
    assert "## accuracy" not in text  # no accuracy rows in the synthetic results
    assert "| LM-RBM RMSE < RBM [5] | I.M. 0.9 |" in text
    assert "| MisGAN lowest FID | I.M. 0.9 | vs lmrbm:" in text and "does not hold" in text
    assert "| MisGAN RMSE > Mean at 0.9 | I.M. 0.9 |" in text


# --- command line ------------------------------------------------------------------

def test_cli_benchmark_options_plot_and_presets(tmp_path, capsys, monkeypatch):
    import torch

    preset = tmp_path / "tiny.json"
    preset.write_text(json.dumps(TINY))
    threads = torch.get_num_threads()
    monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
    try:
        status = main(["benchmark", "--preset", str(preset), "--out", str(tmp_path / "r"),
                       "--methods", "mean", "--mechanisms", "SO", "--rates", "0.5",
                       "--test-repeats", "1", "--seed", "4", "--n-train", "100", "--quiet",
                       "--set", "n_examples=2", "--threads", "1"])
        assert torch.get_num_threads() == 1 and os.environ["OMP_NUM_THREADS"] == "1"
    finally:
        torch.set_num_threads(threads)
    assert status == 0
    printed = capsys.readouterr().out
    assert "| S.O. 0.5 |" in printed and "1 cell(s) computed" in printed
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert (config["seed"], config["n_train"], config["n_examples"]) == (4, 100, 2)
    for png in ("curves.png", "perception_distortion.png", "examples.png"):
        (tmp_path / "r" / png).unlink()
    assert main(["plot", str(tmp_path / "r" / "results.csv"), "--out", str(tmp_path / "p")]) == 0
    for png in ("curves.png", "perception_distortion.png", "examples.png"):
        assert (tmp_path / "p" / png).stat().st_size > 1000
    assert main(["presets"]) == 0
    assert "quick" in capsys.readouterr().out
    assert main(["presets", "--show", "cpu"]) == 0
    shown = capsys.readouterr().out
    assert load_preset({}) is not None and 'dataset = "mnist-sample"' in shown
    assert main(["benchmark", "--preset", "nope", "--out", str(tmp_path / "x")]) == 1
    assert "neither a shipped preset" in capsys.readouterr().err


def test_cli_impute_files_and_saved_models(tmp_path):
    from skrbm_impute.datasets import load_digits_01

    X, _ = load_digits_01()
    mask = make_mask("IM", 40, (8, 8), 0.4, random_state=0)
    X_missing = apply_mask(X[:40], mask)
    np.save(tmp_path / "in.npy", X_missing)
    assert main(["impute", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"),
                 "--method", "diffusion", "--set", "params.diffusion.n_iter=10",
                 "--save-model", str(tmp_path / "m.joblib")]) == 0
    out = np.load(tmp_path / "out.npy")
    assert not np.isnan(out).any()
    np.testing.assert_array_equal(out[~mask], X[:40][~mask])
    np.savetxt(tmp_path / "in.csv", X_missing, delimiter=",")
    assert main(["impute", str(tmp_path / "in.csv"), str(tmp_path / "out.csv"),
                 "--model", str(tmp_path / "m.joblib")]) == 0
    np.testing.assert_allclose(np.loadtxt(tmp_path / "out.csv", delimiter=","), out, rtol=1e-9)
    assert main(["impute", str(tmp_path / "in.txt"), str(tmp_path / "o.npy"),
                 "--method", "mean"]) == 1


def test_backend_without_generators_runs_in_batches(tmp_path):
    """joblib's multiprocessing backend cannot yield results as they come;
    the runner then runs batches of its worker count and still writes every cell."""
    import joblib

    with joblib.parallel_config(backend="multiprocessing"):
        run = _run(tmp_path, {"mechanisms": ["IM"]}, n_jobs=2)
    assert run.n_computed == 4
    assert len(read_results(tmp_path)) == 4 * 2 * 4


def test_cells_are_independent_of_the_method_order():
    config = load_preset(TINY)
    cells = benchmark_cells(config)
    assert len(cells) == len(set(cells)) == 8
    first, second = (derive_seed(0, "test-mask", "IM", 0.3, 0, t) for t in (0, 1))
    assert first != second
    assert derive_seed(0, "train-mask", "IM", 0.3, 1) != derive_seed(0, "train-mask", "IM", 0.3, 0)


def test_every_method_end_to_end_with_tiny_settings(tmp_path):
    """Every method (both readings of [5]) through the runner on 28x28 digits (MNIST LeNet
    FID), and a saved RBM model reused by ``skrbm-impute impute --model``."""
    tiny_methods = {
        "misgan": {"architecture": "fc", "n_epochs": 1, "batch_size": 32, "latent_size": 8},
        "rbm": {"n_components": 16, "n_epochs": 1, "learning_rate": 0.01},
        "rbm-bm": {"n_components": 16, "n_epochs": 1, "learning_rate": 0.01},
        "lmrbm": {"n_components": 16, "n_epochs": 1, "learning_rate": 0.01},
        "diffusion": {"n_iter": 5},
    }
    run = run_benchmark(
        {"dataset": "mnist-sample", "n_train": 80, "n_test": 40, "mechanisms": ["IM", "SO"],
         "rates": [0.5], "n_test_repeats": 1, "n_examples": 3, "params": tiny_methods,
         "metrics": {"classifier_max_iter": 20}},
        tmp_path, progress=False, echo=lambda *a: None)
    frame = read_results(tmp_path)
    assert run.n_computed == 12
    assert np.isfinite(frame["value"]).all()
    hidden = frame[frame["metric"] == "hidden_accuracy"]
    assert set(hidden["method"]) == {"rbm", "rbm-bm", "lmrbm"}
    assert set(frame["method"]) == set(METHODS)
    # MisGAN's budget is recorded (1 epoch of 80 digits in batches of 32: 2 batches),
    # far below the threshold: its column is marked and its budget stated
    batches = frame[frame["metric"] == "training_batches"]
    assert set(batches["method"]) == {"misgan"} and set(batches["value"]) == {2.0}
    assert "| RMSE | Mean | Inpaint | MisGAN ‡ | RBM [5] | RBM [5] +b_m | RBM LM |" in run.table
    assert "undertrained: 2 of the paper's ≈ 390,000 batches" in run.table
    # the RBMs' training in rows seen (1 epoch of 80 digits), next to the paper's
    seen = frame[frame["metric"] == "training_rows_seen"]
    assert set(seen["method"]) == {"rbm", "rbm-bm", "lmrbm"} and set(seen["value"]) == {80.0}
    assert ("RBM training, in rows seen (epochs × training images): RBM [5] 80, "
            "RBM [5] +b_m 80, RBM LM 80; the paper's: 500 epochs × 50,000 = 25,000,000 "
            "with 4,096 hidden units, about 312,500 times more.") in run.table
    assert "They share one budget, as in the paper" in run.table
    assert (tmp_path / "examples.png").stat().st_size > 1000

    X = np.load(tmp_path / "examples" / "clean.npz")["clean"]
    X_missing = apply_mask(X, make_mask("IM", len(X), (28, 28), 0.5, random_state=1))
    np.save(tmp_path / "in.npy", X_missing)
    assert main(["impute", str(tmp_path / "in.npy"), str(tmp_path / "out.npy"),
                 "--model", str(tmp_path / "models" / "lmrbm__IM__0.5.joblib")]) == 0
    out = np.load(tmp_path / "out.npy")
    assert not np.isnan(out).any() and ((out >= 0) & (out <= 1)).all()


# --- training budgets: undertrained cells --------------------------------------------

from skrbm_impute.experiment import _paper, _plots  # noqa: E402

THRESHOLD = _paper.MISGAN_UNDERTRAINED_BELOW


def _budget_frame(batches, cells=(("IM", 0.9),), misgan_scale=0.7):
    """Synthetic results (4 test repeats per cell) with MisGAN's training batches per
    cell (``None``: no ``training_batches`` rows, as in results of older versions)."""
    rows = []
    rng = np.random.default_rng(0)
    budgets = batches if isinstance(batches, dict) else {cell: batches for cell in cells}
    for mechanism, rate in cells:
        for method, scale in (("mean", 1.0), ("lmrbm", 0.5), ("rbm", 0.6),
                              ("misgan", misgan_scale)):
            for t in range(4):
                for metric in ("rmse", "fid"):
                    base = 0.25 if metric == "rmse" else 50
                    value = scale * base * (1 + 0.01 * rng.standard_normal())
                    rows.append((method, mechanism, rate, 0, t, metric, value))
                if method == "misgan" and budgets[(mechanism, rate)] is not None:
                    rows.append((method, mechanism, rate, 0, t, "training_batches",
                                 float(budgets[(mechanism, rate)])))
    return pd.DataFrame(rows, columns=["method", "mechanism", "rate", "train_repeat",
                                       "test_repeat", "metric", "value"])


@pytest.mark.parametrize("batches", [THRESHOLD - 1, THRESHOLD, 10 * THRESHOLD])
def test_undertrained_marks_appear_exactly_below_the_threshold(batches, tmp_path):
    frame = _budget_frame(batches)
    undertrained = batches < THRESHOLD
    label = f"undertrained: {batches:,} of the paper's ≈ 390,000 batches"
    assert _paper.undertrained_cells(frame) == ({("misgan", "IM", 0.9): batches}
                                                if undertrained else {})
    text = compare_with_paper(frame)
    fid_claim = next(line for line in text.splitlines()
                     if line.startswith("| MisGAN lowest FID | I.M. 0.9 |"))
    rmse_claim = next(line for line in text.splitlines()
                      if line.startswith("| MisGAN RMSE > Mean at 0.9 | I.M. 0.9 |"))
    misgan_ratio = next(line for line in text.splitlines()
                        if line.startswith("| I.M. 0.9 |")).split("|")[3]
    _runner.write_summaries(tmp_path, frame, {"dataset": "synthetic"}, echo=lambda *a: None)
    summary = (tmp_path / "summary.md").read_text()
    if undertrained:
        assert label in text and label in summary
        assert fid_claim.endswith(f"| not comparable ({label}) |")
        assert rmse_claim.endswith(f"| not comparable ({label}) |")
        assert misgan_ratio.strip().endswith("‡")
        assert "| RMSE | Mean | MisGAN ‡ | RBM [5] | RBM LM |" in summary
    else:
        assert "undertrained" not in text and "undertrained" not in summary
        assert "‡" not in text and "‡" not in summary
        assert fid_claim.endswith("| does not hold |")  # MisGAN's FID is above LM-RBM's
        assert rmse_claim.endswith("| does not hold |")  # and its RMSE below Mean's
        assert "| RMSE | Mean | MisGAN | RBM [5] | RBM LM |" in summary


def test_undertrained_marks_are_per_cell():
    frame = _budget_frame({("IM", 0.9): 100, ("SO", 0.9): THRESHOLD},
                          cells=(("IM", 0.9), ("SO", 0.9)))
    lines = compare_with_paper(frame).splitlines()
    rows = {cell: next(line for line in lines if line.startswith(f"| {cell} |"))
            for cell in ("I.M. 0.9", "S.O. 0.9")}
    assert rows["I.M. 0.9"].split("|")[3].strip().endswith("‡")
    assert not rows["S.O. 0.9"].split("|")[3].strip().endswith("‡")
    assert any(line.startswith("‡ MisGAN in I.M. 0.9: undertrained: 100 of the "
                               "paper's ≈ 390,000 batches;") for line in lines)
    verdicts = {cell: next(line for line in lines
                           if line.startswith(f"| MisGAN lowest FID | {cell} |"))
                for cell in rows}
    assert "not comparable (undertrained: 100 of" in verdicts["I.M. 0.9"]
    assert verdicts["S.O. 0.9"].endswith("| does not hold |")


def test_lowest_rmse_leaves_out_an_undertrained_rival():
    # MisGAN's RMSE is the lowest of all (0.3 x Mean); undertrained, it is no rival.
    for batches, rival in ((THRESHOLD - 1, "rbm"), (THRESHOLD, "misgan")):
        text = compare_with_paper(_budget_frame(batches, misgan_scale=0.3))
        claim = next(line for line in text.splitlines() if "LM-RBM lowest RMSE" in line)
        assert f"| vs {rival}: " in claim
        assert ("MisGAN left out: undertrained" in claim) == (rival == "rbm")
        assert claim.endswith("| holds |" if rival == "rbm" else "| does not hold |")


def test_rbm_budget_note_states_rows_seen_per_method_and_is_absent_without_them(tmp_path):
    frame = _budget_frame(THRESHOLD)
    assert _paper.rbm_budget_note(frame) is None  # no rows seen recorded (older results)
    extra = [(method, "IM", 0.9, 0, t, "training_rows_seen", value)
             for method, value in (("lmrbm", 120_000.0), ("rbm", 100_000.0))
             for t in range(4)]
    frame = pd.concat([frame, pd.DataFrame(extra, columns=frame.columns)], ignore_index=True)
    note = _paper.rbm_budget_note(frame)
    assert note.startswith("RBM training, in rows seen (epochs × training images): "
                           "RBM [5] 100,000, RBM LM 120,000; the paper's: 500 epochs × "
                           "50,000 = 25,000,000 with 4,096 hidden units, about 208 times more.")
    assert "Their budgets differ, so their comparison is not the paper's" in note
    _runner.write_summaries(tmp_path, frame, {"dataset": "synthetic"}, echo=lambda *a: None)
    assert note in (tmp_path / "summary.md").read_text()
    assert note in compare_with_paper(frame)
    # the metric is a statement, not a score: no table of it, and the cells stay finished
    assert "training_rows_seen" not in (tmp_path / "summary.md").read_text()


def test_results_without_training_batches_still_read_summarize_and_plot(tmp_path):
    frame = _budget_frame(None)
    # a results file as older versions wrote it: no training_batches rows
    frame.to_csv(tmp_path / "results.csv", index=False)
    read = read_results(tmp_path)
    assert len(read) == len(frame) and "training_batches" not in set(read["metric"])
    assert _paper.undertrained_cells(read) == {}
    text = compare_with_paper(read)
    assert "MisGAN's training batches are not recorded" in text and "‡" not in text
    _runner.write_summaries(tmp_path, read, {"dataset": "old"}, echo=lambda *a: None)
    assert "not recorded" in (tmp_path / "summary.md").read_text()
    figures = _plots.draw_all(tmp_path, read)
    assert set(figures) == {"curves", "perception_distortion"}


@pytest.fixture
def drawn(monkeypatch):
    """The matplotlib figures the plotting functions save, kept for inspection."""
    from matplotlib.figure import Figure

    figures = {}
    original = Figure.savefig

    def keep(fig, path, *args, **kwargs):
        figures[Path(path).name] = fig
        return original(fig, path, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    return figures


def _texts(fig):
    texts = [t.get_text() for t in fig.findobj(lambda a: hasattr(a, "get_text"))]
    return "\n".join(texts)


@pytest.mark.parametrize("batches", [THRESHOLD - 1, THRESHOLD])
def test_figures_mark_undertrained_methods(batches, tmp_path, drawn):
    frame = _budget_frame(batches, cells=(("IM", 0.3), ("IM", 0.9)))
    examples = tmp_path / "examples"
    examples.mkdir()
    clean = np.random.default_rng(0).random((3, 16))
    np.savez(examples / "clean.npz", clean=clean, image_shape=np.array([4, 4]))
    for method in ("mean", "misgan"):
        np.savez(examples / f"{method}__IM__0.9.npz", imputed=clean,
                 missing=np.zeros_like(clean, dtype=bool))
    figures = _plots.draw_all(tmp_path, frame, {"methods": ["mean", "misgan", "rbm", "lmrbm"]})
    assert set(figures) == {"curves", "perception_distortion", "examples"}
    short = f"undertrained: {batches:,} of ≈ 390,000 batches"
    for name in ("curves.png", "perception_distortion.png", "examples.png"):
        assert (short in _texts(drawn[name])) == (batches < THRESHOLD), name


def _curve_frame(mechanisms=("IM", "SO", "PM"), rates=(0.3, 0.6)):
    rows = []
    for mechanism in mechanisms:
        for rate in rates:
            for method, scale in (("mean", 1.0), ("rbm", 0.6), ("lmrbm", 0.5)):
                for metric in ("rmse", "fid"):
                    rows.append((method, mechanism, rate, 0, 0, metric, scale * (1 + rate)))
                    if method != "mean":
                        for level in (0, 0.5, 1):
                            rows.append((method, mechanism, rate, 0, 0, f"{metric}@p={level:g}",
                                         scale * (1 + rate) * (1 + level)))
    return pd.DataFrame(rows, columns=["method", "mechanism", "rate", "train_repeat",
                                       "test_repeat", "metric", "value"])


def test_pd_curve_is_a_grid_of_mechanisms_by_rates(tmp_path, drawn):
    assert _plots.plot_pd_curve(_curve_frame(), tmp_path / "pd_curve.png") is not None
    fig = drawn["pd_curve.png"]
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 6
    assert {ax.get_subplotspec().get_geometry()[:2] for ax in panels} == {(3, 2)}
    titles = [[ax.get_title() for ax in panels[row * 2:row * 2 + 2]] for row in range(3)]
    assert titles == [["I.M., rate 0.3", "I.M., rate 0.6"], ["S.O., rate 0.3", "S.O., rate 0.6"],
                      ["P.M., rate 0.3", "P.M., rate 0.6"]]
    # a row's panels share the FID axis, the rows do not
    shared = panels[0].get_shared_y_axes()
    assert shared.joined(panels[0], panels[1]) and not shared.joined(panels[0], panels[2])
    width, height = fig.get_size_inches() * fig.dpi
    assert width <= 1400 and height / width > 0.6  # a grid, not one long row
    assert len(fig.legends) == 1  # one legend for all panels
    assert _plots.plot_pd_curve(_curve_frame()[lambda f: ~f.metric.str.contains("@")],
                                tmp_path / "none.png") is None


@pytest.mark.parametrize("content, message", [
    (np.zeros((0, 16)), "no images to benchmark"),
    (np.array([[0.5, np.inf, 0.2, 0.1]]), "1 infinite value(s), the first in image 0 at pixel 1"),
    (b"not an array", "not a readable .npy array"),
])
def test_a_bad_dataset_file_is_refused_naming_itself(tmp_path, content, message):
    from skrbm_impute.experiment import _data

    path = tmp_path / "images.npy"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        np.save(path, content)
    with pytest.raises(ValueError) as caught:
        _data._load_arrays(str(path), {"labels": None, "data_home": None})
    assert str(path) in str(caught.value) and message in str(caught.value)


def test_public_names_are_the_python_api_documented_in_api_rst():
    import re

    import skrbm_impute.experiment as experiment
    from skrbm_impute.experiment import _presets

    cli_only = {"parse_assignment", "read_preset_text", "check_device", "DeviceError"}
    assert not cli_only & set(experiment.__all__)
    assert not any(hasattr(experiment, name) for name in cli_only)
    assert all(callable(getattr(_presets, name)) for name in cli_only)  # the CLI's imports
    api = (REPO / "docs" / "api.rst").read_text()
    section = api.split(".. currentmodule:: skrbm_impute.experiment", 1)[1].split(
        ".. currentmodule::", 1)[0]
    documented = set(re.findall(r"^   (\w+)$", section, flags=re.MULTILINE))
    assert documented == set(experiment.__all__) - {"TABLE1"}  # TABLE1: in the prose
    assert "``TABLE1``" in section
    for name in experiment.__all__:
        assert name in experiment.__doc__, name


def test_examples_undertrained_note_hides_no_image_and_reads_with_its_row(tmp_path, drawn):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    methods = ["mean", "diffusion", "misgan", "rbm", "lmrbm"]
    frame = _budget_frame(50, cells=(("IM", 0.6), ("SO", 0.6), ("PM", 0.6)))
    examples = tmp_path / "examples"
    examples.mkdir()
    clean = np.random.default_rng(0).random((8, 28 * 28))
    np.savez(examples / "clean.npz", clean=clean, image_shape=np.array([28, 28]))
    for mechanism in ("IM", "SO", "PM"):
        for method in methods:
            np.savez(examples / f"{method}__{mechanism}__0.6.npz", imputed=clean,
                     missing=np.zeros_like(clean, dtype=bool))
    _plots.plot_examples(examples, tmp_path / "examples.png", methods=methods, frame=frame)
    fig = drawn["examples.png"]
    canvas = FigureCanvasAgg(fig)  # pyplot closed the figure; draw it as it was saved
    canvas.draw()
    renderer = canvas.get_renderer()
    notes = [text for text in fig.findobj(Text)
             if "undertrained" in text.get_text() and text.get_visible()]
    assert notes and all("50 of ≈ 390,000" in text.get_text().replace("\n", " ")
                         for text in notes)
    image_boxes = [ax.get_window_extent(renderer) for ax in fig.axes if ax.images]
    [misgan_axes] = [ax for ax in fig.axes if ax.get_ylabel() == "MisGAN"]  # column 0
    misgan_row = misgan_axes.get_window_extent(renderer)
    labels = [ax.yaxis.label.get_window_extent(renderer) for ax in fig.axes if ax.get_ylabel()]

    def gap(a, b):  # vertical distance between two boxes (0 when they overlap in y)
        return max(0.0, a.y0 - b.y1, b.y0 - a.y1)

    for note in notes:
        box = note.get_window_extent(renderer)
        assert not any(box.overlaps(image) for image in image_boxes), box
        assert not any(box.overlaps(label) for label in labels), box
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1  # not cut off
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1
        # it reads with the MisGAN row: no other row's images are nearer
        nearest = min(image_boxes, key=lambda image: gap(box, image))
        assert abs(nearest.y0 - misgan_row.y0) < 1, (box, nearest, misgan_row)
        assert note.get_fontsize() >= 7


@pytest.mark.parametrize("figure", ["perception_distortion", "pd_curve"])
def test_point_labels_do_not_cover_one_another(tmp_path, drawn, figure):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    frame = _curve_frame(mechanisms=("IM",), rates=(0.3, 0.6, 0.9))
    # RBM [5] and LM-RBM a hair apart: their labels would be drawn on top of each other
    rbm = frame[frame["method"] == "rbm"]
    frame = pd.concat([frame[frame["method"] != "lmrbm"],
                       rbm.assign(method="lmrbm", value=rbm["value"] * 1.002)])
    plot = getattr(_plots, f"plot_{figure}")
    plot(frame, tmp_path / f"{figure}.png")
    fig = drawn[f"{figure}.png"]
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    renderer = canvas.get_renderer()
    for ax in fig.axes:
        labels = [text for text in ax.texts if text.get_visible() and text.get_text()]
        if not labels:
            continue
        boxes = [text.get_window_extent(renderer) for text in labels]
        for i, box in enumerate(boxes):
            for j in range(i):
                assert not box.overlaps(boxes[j]), (ax.get_title(), labels[i].get_text(),
                                                    labels[j].get_text())
        frame_box = ax.get_window_extent(renderer)
        for text, box in zip(labels, boxes):
            assert frame_box.x0 <= box.x0 and box.x1 <= frame_box.x1, text.get_text()
            assert frame_box.y0 <= box.y0 and box.y1 <= frame_box.y1, text.get_text()
        shown = {text.get_text() for text in labels}
        wanted = {"0.3", "0.6", "0.9"} if figure == "perception_distortion" else {"0", "1"}
        assert wanted <= shown  # merged labels still name every rate (level)
    [title] = [text for text in fig.texts if text.get_text().startswith("Perception")]
    title = title.get_window_extent(renderer)  # one panel wide, and not cut off
    assert fig.bbox.x0 <= title.x0 and title.x1 <= fig.bbox.x1


def test_examples_redrawn_into_another_folder_keep_the_undertrained_note(tmp_path, drawn):
    from skrbm_impute.experiment import redraw_results

    _budget_frame(50, cells=(("IM", 0.9),)).to_csv(tmp_path / "results.csv", index=False)
    examples = tmp_path / "examples"
    examples.mkdir()
    clean = np.random.default_rng(0).random((3, 16))
    np.savez(examples / "clean.npz", clean=clean, image_shape=np.array([4, 4]))
    np.savez(examples / "misgan__IM__0.9.npz", imputed=clean,
             missing=np.zeros_like(clean, dtype=bool))
    figures = redraw_results(tmp_path, tmp_path / "elsewhere", echo=None)
    assert figures["examples"] == tmp_path / "elsewhere" / "examples.png"
    assert "undertrained: 50 of ≈ 390,000 batches" in _texts(drawn["examples.png"])
