"""The benchmark's perception-knob curves, end to end on the 8x8 digits."""

import joblib
import numpy as np
import pytest

from skrbm_impute.experiment import load_preset, read_results, run_benchmark
from skrbm_impute.experiment._pd_curve import curve_summary
from skrbm_impute.experiment._runner import derive_seed
from skrbm_impute.experiment._scoring import fid_reference, fid_to_reference
from skrbm_impute.masks import apply_mask, make_mask
from skrbm_impute.metrics import rmse

RBM = {"n_components": 24, "n_epochs": 5, "batch_size": 32, "learning_rate": 0.01,
       "rank": None}
LEVELS = [0, 0.25, 0.5, 0.75, 1]
TINY = {
    "dataset": "digits", "n_train": 150, "n_test": 60, "mechanisms": ["IM"],
    "rates": [0.6], "n_train_repeats": 1, "n_test_repeats": 2,
    "methods": ["mean", "rbm", "lmrbm"], "n_examples": 0,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 20},
    "params": {"rbm": RBM, "lmrbm": RBM}, "perception_levels": LEVELS,
}


def test_curve_points_are_written_resumed_and_drawn(tmp_path):
    run = run_benchmark(TINY, tmp_path, progress=False, echo=None)
    assert run.n_computed == 3 and "pd_curve" in run.figures
    assert (tmp_path / "pd_curve.png").stat().st_size > 1000
    frame = read_results(tmp_path)
    for method in ("rbm", "lmrbm"):
        metrics = set(frame[frame["method"] == method]["metric"])
        assert {f"{kind}@p={p:g}" for kind in ("rmse", "fid") for p in LEVELS} <= metrics
    assert not frame[frame["method"] == "mean"]["metric"].str.contains("@").any()

    # Independent recomputation of one point from the saved model and documented seeds.
    from sklearn.model_selection import train_test_split
    from skrbm_impute.datasets import load_digits_01

    X, y = load_digits_01()
    _, X_test = train_test_split(X, train_size=150, test_size=60, stratify=y,
                                 random_state=0)[:2]
    model = joblib.load(tmp_path / "models" / "lmrbm__IM__0.6.joblib")
    config = load_preset(TINY)
    reference = fid_reference(X_test, config, (8, 8))
    values = frame[(frame["method"] == "lmrbm")].set_index(["test_repeat", "metric"])["value"]
    for test_repeat in range(2):
        mask = make_mask("IM", 60, (8, 8), 0.6,
                         random_state=derive_seed(0, "test-mask", "IM", 0.6, 0, test_repeat))
        imputed = model.set_params(perception=0.5).transform(apply_mask(X_test, mask))
        assert values[(test_repeat, "rmse@p=0.5")] == pytest.approx(rmse(X_test, imputed, mask))
        assert values[(test_repeat, "fid@p=0.5")] == pytest.approx(
            fid_to_reference(imputed, reference, config, (8, 8)))
        # p = 0 is the default (mean-field) imputation the ordinary rows score
        assert values[(test_repeat, "rmse@p=0")] == values[(test_repeat, "rmse")]
        assert values[(test_repeat, "rmse@p=1")] > values[(test_repeat, "rmse@p=0")]
    # the runner restored the knob before saving the model
    assert joblib.load(tmp_path / "models" / "lmrbm__IM__0.6.joblib").perception is None

    curves = curve_summary(frame)
    assert len(curves) == 2 * len(LEVELS) and list(curves["level"][:5]) == LEVELS

    (tmp_path / "pd_curve.png").unlink()
    rerun = run_benchmark(TINY, tmp_path, progress=False, echo=None)
    assert rerun.n_computed == 0 and rerun.n_skipped == 3
    assert read_results(tmp_path).equals(frame)
    assert (tmp_path / "pd_curve.png").exists()


def test_no_levels_no_curve(tmp_path):
    run = run_benchmark({**TINY, "methods": ["lmrbm"], "perception_levels": []}, tmp_path,
                        progress=False, echo=None)
    assert "pd_curve" not in run.figures
    assert not read_results(tmp_path)["metric"].str.contains("@").any()


@pytest.mark.parametrize("levels", [[0, 1.5], [0.5, 0.5], "0.5", [True]])
def test_bad_levels_are_named(levels):
    with pytest.raises(ValueError, match="perception_levels"):
        load_preset({**TINY, "perception_levels": levels})


def test_shipped_cpu_and_quick_presets_draw_the_curve():
    for name in ("cpu", "quick"):
        assert len(load_preset(name)["perception_levels"]) >= 5
    assert load_preset("paper")["perception_levels"] == []
    assert np.all(np.diff(load_preset("quick")["perception_levels"]) > 0)
