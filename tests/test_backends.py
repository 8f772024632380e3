"""The benchmark's cells on a Dask LocalCluster, through the command line.

The run goes through ``skrbm-impute benchmark --backend dask`` in a subprocess with a
hard time limit, so that a hang fails with a clear message instead of stalling the
suite; one worker and generous Dask timeouts keep a loaded CI machine (whose workers
answer heartbeats late) from losing the worker.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skrbm_impute.experiment import read_results, run_benchmark

REPO = Path(__file__).resolve().parents[1]
TINY = {
    "dataset": "digits", "n_train": 100, "n_test": 40, "mechanisms": ["IM"],
    "rates": [0.3, 0.6], "methods": ["mean", "diffusion"], "n_examples": 0,
    "metrics": {"fid_features": "pixels", "classifier_max_iter": 20},
    "params": {"diffusion": {"n_iter": 5}},
}
#: Seconds the whole Dask run may take (cluster start, four cells, shutdown): it took
#: 65 s alone on a 2-core machine at load 13 and 154 s within the full suite there.
TIME_LIMIT_S = 480
#: Dask settings for a loaded machine, read by the scheduler and the worker processes
#: alike: no worker is dropped for late heartbeats, connections wait two minutes.
PATIENT_DASK = {
    "DASK_DISTRIBUTED__SCHEDULER__WORKER_TTL": "30 minutes",
    "DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "120s",
    "DASK_DISTRIBUTED__COMM__TIMEOUTS__TCP": "120s",
    "DASK_DISTRIBUTED__DEPLOY__LOST_WORKER_TIMEOUT": "120s",
}


def _sorted(frame):
    frame = frame[frame["metric"] != "fit_seconds"]
    return frame.sort_values(["method", "mechanism", "rate", "metric"]).reset_index(drop=True)


def test_dask_local_cluster_gives_the_sequential_results(tmp_path):
    pytest.importorskip("distributed")
    preset = tmp_path / "tiny.json"
    preset.write_text(json.dumps(TINY))
    env = dict(os.environ, PYTHONPATH=str(REPO), OMP_NUM_THREADS="1", **PATIENT_DASK)
    start = time.monotonic()
    try:
        done = subprocess.run(
            [sys.executable, "-m", "skrbm_impute", "benchmark", "--preset", str(preset),
             "--out", str(tmp_path / "dask"), "--backend", "dask", "--n-jobs", "1",
             "--quiet", "--no-plots"],
            env=env, capture_output=True, text=True, timeout=TIME_LIMIT_S)
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"the Dask run did not finish within {TIME_LIMIT_S} s (a hang?); its "
                    f"last output: {(exc.stderr or b'')[-2000:]!r}")
    seconds = time.monotonic() - start
    assert done.returncode == 0, done.stderr[-3000:]
    assert "4 cell(s) computed, 0 skipped, 0 failed" in done.stdout
    run_benchmark(TINY, tmp_path / "seq", progress=False, plots=False, echo=None)
    a, b = _sorted(read_results(tmp_path / "dask")), _sorted(read_results(tmp_path / "seq"))
    pd.testing.assert_frame_equal(a.drop(columns="value"), b.drop(columns="value"))
    np.testing.assert_allclose(a["value"].to_numpy(), b["value"].to_numpy(), rtol=1e-9)
    print(f"Dask run: {seconds:.1f} s")


def test_scheduler_without_dask_backend_is_refused(capsys, tmp_path):
    from skrbm_impute.__main__ import main

    assert main(["benchmark", "--out", str(tmp_path / "r"), "--scheduler",
                 "tcp://localhost:8786"]) == 1
    assert "--scheduler tcp://localhost:8786 needs --backend dask" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


def test_ray_is_not_offered(capsys):
    from skrbm_impute.__main__ import main

    with pytest.raises(SystemExit):
        main(["benchmark", "--backend", "ray"])
    assert "invalid choice: 'ray'" in capsys.readouterr().err
