#!/usr/bin/env bash
# Recreate the isolated virtualenv for the anonymeter cross-check (benchmark only).
#
# anonymeter 1.1.0 pins numpy<1.27 and pyarrow<22 (and its own pandas/scikit-learn/numba
# ranges), which the project environment does not satisfy, so it lives in its own venv.
# privsynth is never installed there: benchmarks/anonymeter_crosscheck.py runs its
# anonymeter half in this venv and its privsynth half in the project venv.
#
# Usage: bash benchmarks/anonymeter_env.sh [VENV_DIR]   (default /work/bench-anon-venv)
set -euo pipefail

venv="${1:-/work/bench-anon-venv}"

python3.11 -m venv "$venv"
"$venv/bin/pip" install --upgrade pip
"$venv/bin/pip" install "anonymeter==1.1.0"

# Fails loudly if the evaluators cannot be imported.
"$venv/bin/python" -c "from anonymeter.evaluators import SinglingOutEvaluator, \
LinkabilityEvaluator, InferenceEvaluator; import anonymeter, numpy, pandas; \
print('anonymeter ok', numpy.__version__, pandas.__version__)"
