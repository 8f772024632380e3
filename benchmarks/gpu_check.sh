#!/usr/bin/env bash
# GPU checks of the RBM imputers (issue 3), for a fresh CUDA machine with torch installed.
# Run from the repository root:  bash benchmarks/gpu_check.sh
# Writes everything to $OUT/gpu_check.log when $OUT is set.  Takes well under 5 minutes.
set -u
LOG="${OUT:-.}/gpu_check.log"
mkdir -p "$(dirname "$LOG")"
exec > >(tee "$LOG") 2>&1
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
status=0
step() { echo; echo "=== $1 ($(date -u +%H:%M:%S))"; }

step "environment"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
python - <<'PY'
import importlib
import torch
print("torch", torch.__version__, "cuda", torch.cuda.is_available())
for name in ("numpy", "sklearn", "tqdm", "pytest", "mlxtend", "threadpoolctl"):
    try:
        module = importlib.import_module(name)
        print(name, getattr(module, "__version__", "?"))
    except ImportError:
        print(name, "MISSING")
PY
python -c "import skrbm_impute" 2>/dev/null || pip install -e . --no-deps -q || true

step "CUDA tests of tests/test_rbm.py"
timeout 150 python -m pytest tests/test_rbm.py -q -k "cuda" -p no:cacheprovider || status=1

step "epoch benchmark on CUDA"
timeout 150 python benchmarks/bench_rbm_epoch.py --device cuda --repeats 3 || status=1

step "fit on CUDA, pickle, load, transform on the CPU"
timeout 90 python - <<'PY' || status=1
import pickle

import numpy as np
from sklearn.datasets import load_digits

from skrbm_impute import LMRBMImputer, MaskedRBMImputer

X = load_digits().data / 16.0
rng = np.random.RandomState(0)
X[rng.rand(*X.shape) < 0.5] = np.nan
ok = True
for cls in (LMRBMImputer, MaskedRBMImputer):
    for rank in (None, "auto"):
        for imputation in ("mean-field", "sample"):
            model = cls(n_components=256, n_epochs=5, learning_rate=4e-3, rank=rank,
                        imputation=imputation, device="cuda", random_state=0).fit(X)
            on_cuda = model.transform(X)
            loaded = pickle.loads(pickle.dumps(model)).set_params(device="cpu")
            model.set_params(device="cpu")
            same = np.array_equal(loaded.transform(X), model.transform(X))
            same_hidden = np.array_equal(loaded.transform_hidden(X), model.transform_hidden(X))
            gap = np.abs(model.transform(X) - on_cuda).max()
            print(f"{cls.__name__:16s} rank={str(model.rank_):5s} {imputation:10s} "
                  f"identical after pickle on CPU: {same and same_hidden}; "
                  f"max |CPU - CUDA transform| = {gap:.2e}")
            ok &= same and same_hidden and np.isfinite(on_cuda).all()
raise SystemExit(0 if ok else 1)
PY

step "done, status $status"
exit $status
