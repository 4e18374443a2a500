#!/usr/bin/env bash
# The project's one test command, run by CI (.ci/run) and by anyone on a fresh machine:
#   bash tools/test.sh            # notebooks (fast cells) + the docs site + pytest
#   bash tools/test.sh --slow     # also the cells flagged #| slow (long reproductions)
# It makes (or reuses) a virtual environment in .venv (or $VENV), installs the package with its dev and ray extras,
# checks that nbdev-export and nbdev-clean leave the tree unchanged, runs the notebooks (nbdev's test runner) while
# building the documentation site into docs/ (tools/docs.py), checks the site, then runs pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
# the MNIST test files beside the project, where a machine has them; the library itself only reads $SHAPLEY_CNN_MNIST
if [ -z "${SHAPLEY_CNN_MNIST:-}" ] && [ -d ../shared/data/mnist ]; then
  SHAPLEY_CNN_MNIST="$(cd ../shared/data/mnist && pwd)"; export SHAPLEY_CNN_MNIST
fi
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
. "$VENV/bin/activate"
python -m pip install -q --upgrade pip
python -m pip install -q -e ".[dev,ray]"

# what this machine trains and computes with: 'auto' training precision is bfloat16 only where the CPU has AMX
python -c "import torch; from shapley_cnn.models import training_precision as p; c = torch.cpu.get_capabilities()
print(f\"== machine: {c['cpu_name']}, {c['num_logical_cores']} logical cores, torch {torch.__version__}, vector unit \"
      f\"{torch.backends.cpu.get_cpu_capability()}; training precision 'auto' is {p('auto')}\")"

echo "== notebooks are the source: nbdev-export and nbdev-clean must change nothing"
before="$(git status --porcelain; git diff)"
nbdev-export
nbdev-clean
python tools/readme.py
after="$(git status --porcelain; git diff)"
if [ "$before" != "$after" ]; then
  echo "nbdev-export / nbdev-clean / tools/readme.py changed the tree: commit the regenerated files" >&2
  diff <(echo "$before") <(echo "$after") >&2 || true
  exit 1
fi

echo "== the notebooks, run as nbdev-test runs them, and the documentation site built from their outputs"
# two notebooks at a time, one torch thread each (unless OMP_NUM_THREADS says otherwise): on a 2-core machine two
# notebooks with two threads each fight over the cores and run several times slower than one thread each
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" python tools/docs.py ${1:-}

echo "== the site as a reader needs it: every page and figure, links, no network assets, no errors"
python tools/check_docs.py

echo "== pytest"
python -m pytest -q tests
