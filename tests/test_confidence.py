"Confidence sequences hold at every look, and TMAB certifies the right top k on planted games with small gaps."
import math
import pytest
import torch
from shapley_cnn.confidence import SampleHistory, sequence_interval
from shapley_cnn.games import UnanimityGame
from shapley_cnn.shapley import tmab_shapley

def streams(kind, n, T, seed):
    "`n` streams of `T` samples in [0, 1] and their mean."
    g = torch.Generator().manual_seed(seed)
    u = torch.rand(n, T, generator=g, dtype=torch.float64)
    if kind == 'bernoulli': return (u < 0.5).double(), 0.5
    if kind == 'rare': return (u < 0.02).double(), 0.02  # near the edge of the range, as most marginals are
    return u ** 3, 0.25  # skewed, continuous

@pytest.mark.parametrize("method", ["betting", "eb"])
@pytest.mark.parametrize("kind", ["bernoulli", "rare", "skewed"])
def test_the_sequence_misses_the_mean_at_some_look_in_at_most_alpha_of_the_streams(method, kind):
    n, T, alpha = 600, 400, 0.1
    x, mean = streams(kind, n, T, seed=hash((method, kind)) % 1000)
    missed = torch.zeros(n, dtype=torch.bool)
    for t in range(20, T + 1, 20):  # 20 looks
        history = SampleHistory(n); history.add(x[:, :t].T)
        lower, upper = sequence_interval(history, (0, 1), alpha, method)
        missed |= (mean < lower) | (mean > upper)
    assert missed.double().mean() <= alpha + 3 * math.sqrt(alpha * (1 - alpha) / n)
    assert (upper - lower).mean() < 0.25  # and it does narrow

def planted_game(gap, seed=0):
    "12 players: singletons planted so that the 3rd and 4th Shapley values are `gap` apart; noisy pair interactions."
    g = torch.Generator().manual_seed(seed)
    base = torch.tensor([1.0, 0.8, 0.5, 0.5 - gap, 0.3, 0.2, 0.1, 0.1, 0.0, 0.0, -0.1, -0.2], dtype=torch.float64)
    pairs = [(i, (i + 1) % 12) for i in range(12)]
    dividends = torch.where(torch.rand(12, generator=g) < 0.5, -0.4, 0.4).double()
    game = UnanimityGame(12, [[i] for i in range(12)] + [list(p) for p in pairs],
                         torch.cat([base - torch.zeros(12, dtype=torch.float64).index_add_(0, torch.tensor([i for p in pairs for i in p]),
                                                                      dividends.repeat_interleave(2)) / 2, dividends]))
    return game

def test_the_planted_game_has_the_gap_it_says():
    values = planted_game(0.05).shapley_values()
    top = values.sort(descending=True).values
    assert abs((top[2] - top[3]).item() - 0.05) < 1e-12

@pytest.mark.parametrize("strata", [1, 2])  # strata=2: a sample is the mean over a permutation and its half-turn
def test_tmab_certifies_the_right_top_k_and_never_a_wrong_one_beyond_delta(strata):
    game, delta = planted_game(0.05), 0.1
    truth = set(game.shapley_values().topk(3).indices.tolist())
    runs = [tmab_shapley(game, k=3, delta=delta, epsilon=0.01, scope='all', seed=s, progress=False,
                         max_permutations=4000, round_size=32, strata=strata) for s in range(30)]
    certified = [r for r in runs if r.certified]
    wrong = [r for r in certified if set(r.values.topk(3).indices.tolist()) != truth]
    assert len(certified) >= 27, f"only {len(certified)} of 30 runs certified within 4,000 walks"
    assert len(wrong) <= delta * len(runs)
    r = certified[0]
    assert r.certificate['confidence'] == 1 - delta and r.certificate['scope'] == 'all' and r.certificate['undecided'] == []
    assert r.certificate['marginals'] == strata * int(r.counts.sum()) and r.certificate['walks'] == r.params['n_permutations']

def test_an_adaptive_run_draws_fewer_marginals_than_monte_carlo_to_the_same_certificate():
    game = planted_game(0.1)
    kw = dict(k=3, epsilon=0.01, seed=0, progress=False, max_permutations=4000, round_size=32)
    bandit, plain = tmab_shapley(game, **kw), tmab_shapley(game, adaptive=False, **kw)
    assert bandit.certified and plain.certified
    assert set(bandit.values.topk(3).indices.tolist()) == set(plain.values.topk(3).indices.tolist())
    assert bandit.certificate['marginals'] < plain.certificate['marginals'] / 2

def test_a_relative_tolerance_is_a_share_of_the_kth_value():
    game = planted_game(0.1)
    r = tmab_shapley(game, k=3, epsilon=0.1, relative=True, seed=0, progress=False, max_permutations=2000)
    assert abs(r.certificate['tolerance'] - 0.1 * abs(r.values.topk(3).values[-1].item())) < 1e-12
