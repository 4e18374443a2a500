#!/usr/bin/env bash
# The project's one test command, run by CI (.ci/run) and by anyone on a fresh machine:
#   bash tools/test.sh            # notebooks (fast cells) + pytest
#   bash tools/test.sh --slow     # also the cells flagged #| slow (long reproductions)
# It makes (or reuses) a virtual environment in .venv (or $VENV), installs the package with its dev extra,
# checks that nbdev-export and nbdev-clean leave the tree unchanged, then runs nbdev-test and pytest.
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
python -m pip install -q -e ".[dev]"

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

echo "== nbdev-test"
flags=""; [ "${1:-}" = "--slow" ] && flags="--flags slow"
# two notebooks at a time, one torch thread each (unless OMP_NUM_THREADS says otherwise): on a 2-core machine two
# notebooks with two threads each fight over the cores and run several times slower than one thread each
OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}" nbdev-test --n-workers 2 --timing $flags

echo "== pytest"
python -m pytest -q tests
