"""Sampling on Ray workers (shapley_cnn.distributed): the same values as in one process whatever the number of workers,
a worker killed mid-round replaced with nothing lost or counted twice, and a clear error where Ray is missing."""
import importlib.util, os, signal, sys, threading, time
import pytest, torch
from shapley_cnn.games import FunctionGame, sparse_game
from shapley_cnn.shapley import permutation_shapley, tmab_shapley, executor
from shapley_cnn.distributed import RayWorkers, RayExecutor, as_workers

# a test whose workers would wait for want of shares proves nothing about them: that warning fails it
pytestmark = pytest.mark.filterwarnings('error:.*so only')

needs_ray = pytest.mark.skipif(importlib.util.find_spec('ray') is None,
                               reason='Ray is not installed: pip install "shapley-cnn[ray]" (tools/test.sh does)')

@pytest.fixture(scope='module')
def ray_runtime():
    "One local Ray runtime for the module's tests (its start takes seconds), stopped after them."
    import ray
    yield
    ray.shutdown()

def same(a, b):
    "Equal to the last bit: counts, evaluations, values and standard errors."
    assert torch.equal(a.counts, b.counts) and a.n_evals == b.n_evals
    assert torch.equal(a.values, b.values) and torch.equal(a.stderr.nan_to_num(0), b.stderr.nan_to_num(0))

@needs_ray
def test_permutation_and_tmab_on_ray_equal_the_run_in_one_process(ray_runtime):
    game = sparse_game(24, n_large=3, seed=1)
    here = permutation_shapley(game, 120, antithetic=True, seed=3, progress=False, batch_size=25 * 8)
    same(permutation_shapley(game, 120, antithetic=True, seed=3, progress=False, batch_size=25 * 8, workers=2), here)
    tmab = dict(k=3, seed=2, progress=False, round_size=6, epsilon=1e-3, batch_size=25 * 3)  # rounds of 2 shares
    here = tmab_shapley(game, **tmab)
    for n in (1, 2):
        on_ray = tmab_shapley(game, **tmab, workers=n)
        same(on_ray, here); assert on_ray.params == here.params
    with pytest.warns(UserWarning, match='only 2 of the 3 workers have work'):  # a round's 2 shares for 3 workers
        same(tmab_shapley(game, **tmab, workers=3), here)
    with pytest.warns(UserWarning, match='only 1 of the 2 workers has work'):  # 30 walks fit in one share
        permutation_shapley(game, 30, seed=3, progress=False, workers=2)

@needs_ray
def test_data_shapley_on_ray_equals_the_run_in_one_process(ray_runtime):
    from shapley_cnn.datavalue import DataGame, tmc_shapley, data_banzhaf
    g = torch.Generator().manual_seed(0)
    x, vx = torch.randn(16, 4, generator=g), torch.randn(30, 4, generator=g)
    y, vy = torch.arange(16) % 3, torch.randint(0, 3, (30,), generator=g)
    game = DataGame(x, y, vx, vy)  # float32 heads trained in batches: exact only if no batch is cut differently
    for n in (2, 3):
        same(tmc_shapley(game, 22, seed=1, progress=False, walks_at_once=4, workers=n),
             tmc_shapley(game, 22, seed=1, progress=False, walks_at_once=4))
        same(data_banzhaf(game, 72, seed=1, progress=False, batch_size=16, workers=n),
             data_banzhaf(game, 72, seed=1, progress=False, batch_size=16))

@needs_ray
def test_neuron_shapley_of_digitcnn_on_ray_equals_the_run_in_one_process(ray_runtime):
    from shapley_cnn.experiment import Experiment
    from shapley_cnn.neurons import neuron_game, neuron_shapley
    game = neuron_game(Experiment(model='digitcnn', progress=False), images_per_walk=16)
    options = dict(k=5, max_permutations=4, seed=0, progress=False, batch_size=2 * (game.n_players + 1))  # 2 shares
    same(neuron_shapley(game, **options, workers=2), neuron_shapley(game, **options))

@needs_ray
def test_a_worker_killed_mid_round_is_replaced_and_nothing_is_lost_or_counted_twice(ray_runtime, tmp_path):
    base, marks, driver = sparse_game(14, n_large=3, seed=5), str(tmp_path), os.getpid()
    def slow(coalitions):  # each call marks the process that made it, then takes a while
        import os, pathlib, time
        pathlib.Path(marks, str(os.getpid())).touch(); time.sleep(0.3)
        return base.value(coalitions)
    game = FunctionGame(slow, 14, name='slow sparse game', marginal_range=base.marginal_range)
    killed = []
    def kill_the_first_worker_seen():
        deadline = time.time() + 300
        while not killed and time.time() < deadline:
            workers = [int(p.name) for p in tmp_path.iterdir() if int(p.name) != driver]
            if workers: os.kill(workers[0], signal.SIGKILL); killed.append(workers[0])
            time.sleep(0.01)
    killer = threading.Thread(target=kill_the_first_worker_seen); killer.start()
    on_ray = permutation_shapley(game, 64, seed=4, progress=False, batch_size=15 * 8, workers=RayWorkers(2))
    killer.join()
    assert killed, "no worker was seen working, so none was killed"
    seen = {int(p.name) for p in tmp_path.iterdir()} - {driver}
    assert len(seen) == 3, f"the killed worker should have been replaced by a third process, saw {seen}"
    assert (on_ray.counts == 64).all()  # every walk's marginals merged once: none lost, none twice
    same(on_ray, permutation_shapley(game, 64, seed=4, progress=False, batch_size=15 * 8))

@needs_ray
def test_the_workers_hold_their_own_copy_and_stop_after_the_run(ray_runtime):
    game = sparse_game(8, seed=0)
    with executor(game, 2) as run_on:
        assert isinstance(run_on, RayExecutor)
        pids = run_on.pids()
        assert len(set(pids)) == 2 and os.getpid() not in pids
        coalitions = torch.rand(10, 8, generator=torch.Generator().manual_seed(0)) < 0.5
        batches = list(coalitions.split(3))  # each batch evaluated whole by one worker, as it would be here
        assert all(torch.equal(a, game(b)) for a, b in zip(run_on.value(batches), batches))
    assert run_on.actors == []

def test_without_ray_workers_get_a_clear_error_and_nothing_else_changes(monkeypatch):
    monkeypatch.setitem(sys.modules, 'ray', None)  # as if Ray were not installed
    game = sparse_game(6, seed=0)
    with pytest.raises(ImportError, match=r'pip install "shapley-cnn\[ray\]"'):
        permutation_shapley(game, 4, seed=0, progress=False, workers=2)
    assert permutation_shapley(game, 4, seed=0, progress=False).counts.eq(4).all()

def test_bad_workers_are_refused():
    with pytest.raises(ValueError, match='n >= 1'): as_workers(0)
    with pytest.raises(TypeError, match='number of workers'): as_workers(2.5)
    with pytest.raises(ValueError, match='not twice'): as_workers(RayWorkers(2, 'auto'), 'auto')
    with pytest.raises(ValueError, match='max_restarts'): RayWorkers(2, max_restarts=-1)
