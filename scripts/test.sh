#!/usr/bin/env bash
# The test command (README and CI): the whole suite on 2 workers, the
# docstring examples (`--doctest-modules kerax`) included. Slow export tests
# are marked `slow` but run here too.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3
# The suite is bound by XLA compile time (thousands of small programs, each
# run a few times): LLVM's cheapest optimization level compiles ~25% sooner
# and computes the same results. Benchmarks (scripts/bench_*.py) do not use it.
export XLA_FLAGS="--xla_backend_optimization_level=0${XLA_FLAGS:+ $XLA_FLAGS}"
# The two workers and the subprocesses (examples, CLI runs, resumed jobs)
# compile many identical programs: one JAX compilation cache for the run, in
# a fresh folder, compiles each once (about a sixth off tests/training).
cache_dir="$(mktemp -d)"
trap 'rm -rf "$cache_dir"' EXIT
export JAX_COMPILATION_CACHE_DIR="$cache_dir"
export JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS=0 JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES=0
python -m pytest -n 2 --dist worksteal -q --doctest-modules kerax tests "$@"
