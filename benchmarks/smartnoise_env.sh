#!/usr/bin/env bash
# Recreate the isolated virtualenv for the smartnoise-synth MST baseline.
#
# smartnoise-synth 1.0.8 pins opacus<0.15 and pac-synth<0.0.9, which only its GAN and
# aggregate-seeded synthesizers import; its MST path needs mbi 1.x (mbi 1.1.0 has the
# LinearMeasurement/estimation API it calls), OpenDP (noise and the zCDP conversion),
# smartnoise-sql (imported by snsynth.base), Faker, disjoint-set and networkx. So the
# package is installed with --no-deps and the MST dependencies are listed by hand; torch
# is never pulled in. jax/jaxlib are pinned to stop pip backtracking through old wheels.
#
# Versions pip resolved when this was written (python 3.11.7): jax 0.7.1, mbi 1.1.0,
# opendp 0.14.2, numpy 2.4.6, pandas 2.3.3, scipy 1.17.1, scikit-learn 1.9.1,
# networkx 3.6.1, faker 40.63.0.
#
# Usage: bash benchmarks/smartnoise_env.sh [VENV_DIR]   (default /work/bench-sn-venv)
set -euo pipefail

venv="${1:-/work/bench-sn-venv}"

python3 -m venv "$venv"
"$venv/bin/pip" install --upgrade pip
"$venv/bin/pip" install --no-deps "smartnoise-synth==1.0.8" "smartnoise-sql==1.0.10"
"$venv/bin/pip" install \
    "mbi==1.1.0" "jax==0.7.1" "jaxlib==0.7.1" \
    "opendp>=0.14.1,<0.15" "faker>=17" "disjoint-set>=0.9,<0.10" networkx \
    "antlr4-python3-runtime==4.9.3" "pyyaml>=6.0.1,<7" "graphviz>=0.17,<1" \
    "sqlalchemy>=2,<3" "pandas>=2.0.1,<3" "numpy<3" scipy scikit-learn

# Fails loudly if the MST import path is incomplete.
"$venv/bin/python" -c "from snsynth import Synthesizer; Synthesizer.create('mst', epsilon=1.0)"
