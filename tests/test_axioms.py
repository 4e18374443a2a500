"Property-based checks: exact Shapley values satisfy the four axioms on random tabular games, and match brute force."
import itertools, math
import torch
from hypothesis import given, settings, strategies as st
from shapley_cnn.games import TabularGame
from shapley_cnn.shapley import exact_shapley
from shapley_cnn.axioms import check_efficiency, check_symmetry, check_null_player, check_additivity, plant_null_and_symmetric

seeds = st.integers(0, 2**31 - 1)
sizes = st.integers(1, 8)

@settings(max_examples=60, deadline=None)
@given(n=sizes, seed=seeds)
def test_efficiency(n, seed):
    game = TabularGame.random(n, seed=seed, normalized=False)
    assert check_efficiency(exact_shapley(game), game)

@settings(max_examples=40, deadline=None)
@given(n=st.integers(3, 8), seed=seeds, data=st.data())
def test_symmetry_and_null_player(n, seed, data):
    null = data.draw(st.integers(0, n - 1))
    i, j = data.draw(st.lists(st.integers(0, n - 1).filter(lambda p: p != null), min_size=2, max_size=2, unique=True))
    game = plant_null_and_symmetric(TabularGame.random(n, seed=seed), null, (i, j))
    values = exact_shapley(game)
    assert abs(values.values[null]) < 1e-9 and abs(values.values[i] - values.values[j]) < 1e-9
    assert check_symmetry(values, game) and check_null_player(values, game)

@settings(max_examples=40, deadline=None)
@given(n=sizes, seed_a=seeds, seed_b=seeds)
def test_additivity(n, seed_a, seed_b):
    a, b = TabularGame.random(n, seed=seed_a), TabularGame.random(n, seed=seed_b)
    assert check_additivity(exact_shapley(a + b), exact_shapley(a), exact_shapley(b))

def brute_force_shapley(game):
    "Average marginal contribution over all n! permutations, one coalition at a time (independent of exact_shapley)."
    n, table = game.n_players, game.table
    phi = torch.zeros(n, dtype=torch.float64)
    for perm in itertools.permutations(range(n)):
        index = 0
        for player in perm:
            phi[player] += table[index | (1 << player)] - table[index]
            index |= 1 << player
    return phi / math.factorial(n)

@settings(max_examples=25, deadline=None)
@given(n=st.integers(1, 6), seed=seeds, batch_size=st.integers(1, 70))
def test_exact_matches_brute_force_for_any_batch_size(n, seed, batch_size):
    game = TabularGame.random(n, seed=seed)
    assert torch.allclose(exact_shapley(game, batch_size=batch_size).values, brute_force_shapley(game), atol=1e-10, rtol=0)
