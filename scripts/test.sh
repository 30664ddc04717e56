#!/usr/bin/env bash
# The test command (README and CI): the whole suite on 2 workers, the
# docstring examples (`--doctest-modules kerax`) included. Slow export tests
# are marked `slow` but run here too.
set -euo pipefail
cd "$(dirname "$0")/.."
export KERAS_BACKEND=jax TF_CPP_MIN_LOG_LEVEL=3
python -m pytest -n 2 -q --doctest-modules kerax tests "$@"
