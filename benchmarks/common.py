"""What the benchmark scripts share: a timer, and the MNIST folder beside the project where a machine has one."""
import os, time
from pathlib import Path

def timed(fn):
    "The result of `fn()` and the seconds it took."
    start = time.perf_counter(); result = fn()
    return result, time.perf_counter() - start

def mnist_or_digits()->str:
    "'mnist' when $SHAPLEY_CNN_MNIST (or, on the team's machines, ../shared/data/mnist) has the MNIST files, else 'digits'."
    local = Path(__file__).resolve().parents[2] / 'shared' / 'data' / 'mnist'
    if not os.environ.get('SHAPLEY_CNN_MNIST') and local.is_dir(): os.environ['SHAPLEY_CNN_MNIST'] = str(local)
    return 'mnist' if os.environ.get('SHAPLEY_CNN_MNIST') else 'digits'
