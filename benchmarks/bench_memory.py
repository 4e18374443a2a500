"""Peak memory (resident set size) of the default test run and of `shapley-cnn image-values`, against their bounds.

    python benchmarks/bench_memory.py              # image-values now; the test run's notebooks from its last record
    python benchmarks/bench_memory.py --pytest     # also run pytest and measure it

1. `shapley-cnn image-values` with its defaults (the six torchvision architectures trained on the digits, 50 test
   images, both explainers) in a process of its own: its peak against the bound of 4 GB;
2. the test run's notebooks, each in a process of its own (`tools/docs.py` records each one's peak in
   build/docs/run/status.json): the largest peak against the bound of 8 GB; with --pytest, pytest's own peak too.
The models come from the user cache where an earlier run trained them (the first run trains them here).
"""
import argparse, json, resource, subprocess, sys, tempfile, time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
STATUS = ROOT / 'build' / 'docs' / 'run' / 'status.json'
GB = 2**20  # ru_maxrss is in kB on Linux

def peak_of(argv:list)->tuple[float, float]:
    "Run `argv` in a child process; its peak resident memory in GB (the largest of its processes) and its seconds."
    before, start = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    after = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if after <= before: print("  (a bigger child ran before: the peak below is an upper bound)")
    return after / GB, time.perf_counter() - start

def image_values_row()->tuple:
    exe = Path(sys.executable).parent / 'shapley-cnn'
    with tempfile.TemporaryDirectory() as out:
        peak, seconds = peak_of([str(exe), 'image-values', '--out', out, '--no-progress'])
    return 'shapley-cnn image-values (defaults, the digits)', peak, 4.0, seconds

def notebook_rows()->list:
    if not STATUS.exists(): return [("the test run's notebooks: no record (run `bash tools/test.sh` first)", None, 8.0, None)]
    notebooks = json.loads(STATUS.read_text())['notebooks']
    largest = max(notebooks, key=lambda n: notebooks[n]['peak_mb'])
    rows = [(f"  {name}", run['peak_mb'] / 1024, 8.0, run['seconds'])
            for name, run in sorted(notebooks.items(), key=lambda kv: -kv[1]['peak_mb'])[:5]]
    return [(f"the test run's notebooks, the largest: {largest}", notebooks[largest]['peak_mb'] / 1024, 8.0, None), *rows]

def pytest_row()->tuple:
    peak, seconds = peak_of([sys.executable, '-m', 'pytest', '-q', str(ROOT / 'tests')])
    return 'pytest (the test run\'s last step)', peak, 8.0, seconds

if __name__ == '__main__':
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--pytest', action='store_true', help='also run pytest and measure its peak')
    args = parser.parse_args()
    rows = [image_values_row(), *notebook_rows(), *([pytest_row()] if args.pytest else [])]
    print(f"{'':70} {'peak':>8} {'bound':>7} {'seconds':>8}")
    for what, peak, bound, seconds in rows:
        verdict = '' if peak is None else ('  within' if peak <= bound else '  OVER')
        print(f"{what:70} {'' if peak is None else f'{peak:.2f} GB':>8} {bound:>5.0f} GB {'' if seconds is None else f'{seconds:.0f}':>8}{verdict}")
