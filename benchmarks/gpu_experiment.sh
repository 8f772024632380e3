#!/usr/bin/env bash
# GPU smoke run of the FID fix and of the experiment on CUDA (quick preset).
# Run from the repository root on a CUDA machine; copies the summary and figures to $OUT.
set -u
OUT="${OUT:-/tmp/gpu_out}"
mkdir -p "$OUT"
exec > >(tee "$OUT/gpu_experiment.log") 2>&1
if ls .whl/*.whl >/dev/null 2>&1; then
    python -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade \
        --target /tmp/site .whl/*.whl
fi
export PYTHONPATH="$PWD:/tmp/site" SKRBM_IMPUTE_DATA="${SKRBM_IMPUTE_DATA:-$PWD/.gpudata}"
status=0
echo "=== CUDA FID test and benchmark"
timeout 90 python -m pytest tests/test_metrics.py -q -m cuda -p no:cacheprovider || status=1
timeout 90 python benchmarks/bench_fid.py --device cuda --repeats 3 || status=1
echo "=== quick preset on CUDA"
start=$(date +%s)
timeout 330 python -m skrbm_impute benchmark --device cuda --n-jobs 4 --out /tmp/quick || status=1
echo "quick preset on CUDA: $(( $(date +%s) - start )) s"
for f in /tmp/quick/*.md /tmp/quick/*.png; do [ -f "$f" ] && cp "$f" "$OUT/"; done
echo "=== done, status $status"
exit $status
