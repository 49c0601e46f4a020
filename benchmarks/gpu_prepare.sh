#!/usr/bin/env bash
# Prepare the GPU suite on this machine (which reaches a package registry) for a GPU machine
# (which does not): download, as wheels into .gpu_wheels/ (git-ignored, carried to the GPU
# machine), the pure-Python packages spikejax needs beyond what such a machine carries (jax
# with CUDA, equinox, diffrax, optax, chex), at the versions installed here.
#
#     bash benchmarks/gpu_prepare.sh        # then, on the GPU machine: bash benchmarks/gpu_run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
pkgs=()
for name in optimistix lineax jaxtyping wadler_lindig tqdm sympy mpmath; do
    version=$("$PY" -c "from importlib.metadata import version; print(version('$name'))")
    pkgs+=("$name==$version")
done
rm -rf .gpu_wheels
"$PY" -m pip download --quiet --no-deps --only-binary=:all: -d .gpu_wheels "${pkgs[@]}"
ls .gpu_wheels
