#!/usr/bin/env bash
# The GPU suite, run unchanged on a GPU machine from the repository root:
#
#     bash benchmarks/gpu_run.sh            # with .gpu_wheels/ from benchmarks/gpu_prepare.sh
#
# Installs from .gpu_wheels/ (no registry needed) only the packages this machine lacks, into a
# folder of its own (nothing the machine has is replaced), prints the device, then runs
# `benchmarks/run_all.py --quick` within a time budget (default 420 s, `SUITE_BUDGET_S`), so
# that it ends inside one 10-minute device command. The JSON (device name, jax version,
# memory per part) is written to $OUT (or benchmarks/results/) after every part.
set -uo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
DEST=${OUT:-benchmarks/results}
mkdir -p "$DEST"
missing=$("$PY" - <<'PYEOF'
import importlib.util
need = ["optimistix", "lineax", "jaxtyping", "wadler_lindig", "tqdm", "sympy", "mpmath"]
print(" ".join(n for n in need if importlib.util.find_spec(n) is None))
PYEOF
)
if [ -n "$missing" ]; then
    echo "installing from .gpu_wheels: $missing"
    "$PY" -m pip install --quiet --no-index --no-deps --find-links .gpu_wheels \
        --target /tmp/spikejax_deps $missing || echo "install failed: $missing" >&2
    export PYTHONPATH="/tmp/spikejax_deps${PYTHONPATH:+:$PYTHONPATH}"
fi
export PYTHONPATH=".${PYTHONPATH:+:$PYTHONPATH}"
"$PY" -c "import jax; print('jax', jax.__version__, jax.devices())"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv 2>/dev/null || true
"$PY" benchmarks/run_all.py --quick --budget-s "${SUITE_BUDGET_S:-420}" \
    --out "$DEST/suite_gpu_quick.json" "$@"
