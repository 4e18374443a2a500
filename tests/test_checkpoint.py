"Kill a real sampling process with SIGKILL mid-run, resume it, and get exactly the values of an uninterrupted run."
import importlib.util, os, signal, subprocess, sys, time, textwrap

import pytest, torch

SCRIPT = textwrap.dedent('''
    import sys, time, torch
    from shapley_cnn.games import FunctionGame, sparse_game
    from shapley_cnn.shapley import permutation_shapley, tmab_shapley
    method, checkpoint, out, delay = sys.argv[1], sys.argv[2] or None, sys.argv[3], float(sys.argv[4])
    workers = int(sys.argv[5]) or None
    base = sparse_game(14, n_large=3, seed=5)
    def slow_value(coalitions):
        time.sleep(delay)
        return base.value(coalitions)
    game = FunctionGame(slow_value, 14, name='slow sparse game', marginal_range=base.marginal_range)
    if method == 'permutation': result = permutation_shapley(game, 1200, seed=11, checkpoint=checkpoint, progress=False, batch_size=60, workers=workers)
    else: result = tmab_shapley(game, k=6, seed=11, checkpoint=checkpoint, progress=False, round_size=4, max_permutations=400, epsilon=1e-3, batch_size=30, workers=workers)
    result.save(out)
''')

def run(tmp_path, method, checkpoint, out, delay, wait=True, workers=0):
    script = tmp_path / 'job.py'; script.write_text(SCRIPT)
    args = [sys.executable, str(script), method, str(checkpoint or ''), str(out), str(delay), str(workers)]
    return subprocess.run(args, check=True, timeout=600) if wait else subprocess.Popen(args)

on_ray = pytest.param("tmab", 2, marks=pytest.mark.skipif(importlib.util.find_spec('ray') is None,
                                                           reason='Ray is not installed: pip install "shapley-cnn[ray]"'))

@pytest.mark.parametrize("method,workers", [("permutation", 0), ("tmab", 0), on_ray])
def test_killed_run_resumes_to_the_uninterrupted_values(tmp_path, method, workers):
    "With `workers`, the driver of a run on Ray workers is killed and restarted (its workers go with it)."
    from shapley_cnn.shapley import ShapleyValues
    checkpoint = tmp_path / 'state.npz'
    process = run(tmp_path, method, checkpoint, tmp_path / 'never.json', delay=0.2, wait=False, workers=workers)
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline: time.sleep(0.05)
    time.sleep(0.7)  # let it get further than the first save
    assert process.poll() is None, "the run finished before it could be killed: make it slower"
    os.kill(process.pid, signal.SIGKILL); process.wait()
    assert process.returncode == -signal.SIGKILL and not (tmp_path / 'never.json').exists()
    import numpy as np
    with np.load(checkpoint) as state: done_at_kill = int(state['done'])
    assert done_at_kill > 0

    run(tmp_path, method, checkpoint, tmp_path / 'resumed.json', delay=0.0, workers=workers)
    run(tmp_path, method, None, tmp_path / 'straight.json', delay=0.0)
    resumed, straight = ShapleyValues.load(tmp_path / 'resumed.json'), ShapleyValues.load(tmp_path / 'straight.json')
    assert torch.allclose(resumed.values, straight.values, atol=1e-12, rtol=0)  # Ray or not: the same values
    assert torch.equal(resumed.counts, straight.counts)
    assert resumed.params['n_permutations'] == straight.params['n_permutations']
    assert not list(tmp_path.glob('*.tmp')), "a temporary checkpoint file was left behind"
