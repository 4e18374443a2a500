"Every mistake a user can make gets a clear ValueError/TypeError, raised before any long computation."
import math
import pytest, torch
from shapley_cnn.games import Game, FunctionGame, TabularGame, GloveGame, sparse_game
from shapley_cnn.shapley import exact_shapley, permutation_shapley, tmab_shapley, Truncation

glove = GloveGame(1, 2)
def wrong_shape(c): return torch.zeros(len(c), 2)
def nan_for_full(c): return torch.where(c.all(1), math.nan, c.sum(1).double())
def inf_for_singletons(c): return torch.where(c.sum(1) == 1, math.inf, 0.)

CASES = [  # (what the user did, call, exception, words the message must contain)
    ("zero players", lambda: Game(0), ValueError, "at least one player"),
    ("a non-integer number of players", lambda: Game(2.5), TypeError, "n_players must be an int"),
    ("player names of the wrong length", lambda: Game(3, players=['a']), ValueError, "1 player names given for 3 players"),
    ("a value function returning the wrong shape", lambda: exact_shapley(FunctionGame(wrong_shape, 3, name='wrong')), ValueError, "wrong.value returned shape [8, 2]"),
    ("a value function returning NaN", lambda: permutation_shapley(FunctionGame(nan_for_full, 3, name='nanny'), 10, progress=False), ValueError, "nanny.value returned nan for the coalition ['p0', 'p1', 'p2']"),
    ("a value function returning inf", lambda: exact_shapley(FunctionGame(inf_for_singletons, 3, name='blowup')), ValueError, "blowup.value returned inf for the coalition"),
    ("coalitions that are not boolean", lambda: glove(torch.ones(2, 3)), TypeError, "boolean"),
    ("coalitions of the wrong width", lambda: glove(torch.ones(2, 4, dtype=torch.bool)), ValueError, "[B, 3]"),
    ("k = 0", lambda: tmab_shapley(glove, k=0), ValueError, "k must be an int between 1 and 3"),
    ("k above the number of players", lambda: tmab_shapley(glove, k=4), ValueError, "k must be an int between 1 and 3"),
    ("delta = 0", lambda: tmab_shapley(glove, k=1, delta=0), ValueError, "delta must lie in (0, 1)"),
    ("delta = 1", lambda: tmab_shapley(glove, k=1, delta=1), ValueError, "delta must lie in (0, 1)"),
    ("an unknown bound", lambda: tmab_shapley(glove, k=1, bound='chernoff'), ValueError, "'bernstein' or 'hoeffding'"),
    ("zero permutations", lambda: permutation_shapley(glove, 0), ValueError, "n_permutations must be a positive int"),
    ("negative permutations", lambda: permutation_shapley(glove, -5), ValueError, "n_permutations must be a positive int"),
    ("an odd number of antithetic permutations", lambda: permutation_shapley(glove, 7, antithetic=True), ValueError, "must be even"),
    ("TMAB on a game that declares no bound on its marginals", lambda: tmab_shapley(FunctionGame(lambda c: c.sum(1).double(), 3), k=1), ValueError, "pass value_range=R"),
    ("a zero TMAB budget", lambda: tmab_shapley(glove, k=1, max_permutations=0), ValueError, "max_permutations must be a positive int"),
    ("a zero batch size", lambda: exact_shapley(glove, batch_size=0), ValueError, "batch_size must be a positive int"),
    ("exact values for too many players", lambda: exact_shapley(sparse_game(40)), ValueError, "Use permutation_shapley or tmab_shapley"),
    ("a truncation that is not a Truncation", lambda: permutation_shapley(glove, 10, truncation=0.1), TypeError, "truncation must be a Truncation"),
    ("a remove-walk truncation without a level", lambda: Truncation(0.1, walk='remove'), ValueError, "explicit level"),
    ("a negative truncation tolerance", lambda: Truncation(-1.), ValueError, "tolerance must be >= 0"),
    ("a malformed value table", lambda: TabularGame([0., 1, 2]), ValueError, "2**n entries"),
]

@pytest.mark.parametrize("what,call,error,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused(what, call, error, words):
    with pytest.raises(error) as info: call()
    assert words in str(info.value), f"{what}: {info.value}"

@pytest.mark.parametrize("method", ["permutation", "tmab"])
def test_checkpoint_of_another_game_or_method_is_refused(tmp_path, method):
    path = tmp_path / "run.npz"
    permutation_shapley(sparse_game(8), 20, seed=0, checkpoint=path, progress=False)
    with pytest.raises(ValueError, match="written by another run"):
        if method == "permutation": permutation_shapley(sparse_game(9), 20, seed=0, checkpoint=path, progress=False)
        else: tmab_shapley(sparse_game(8), 2, seed=0, checkpoint=path, progress=False)

def test_bad_input_fails_before_any_evaluation():
    calls = []
    game = FunctionGame(lambda c: calls.append(len(c)) or c.sum(1).double(), 5, name='counted')
    for call in (lambda: tmab_shapley(game, k=9), lambda: tmab_shapley(game, k=2, delta=2), lambda: permutation_shapley(game, 0),
                 lambda: permutation_shapley(game, 3, antithetic=True)):
        with pytest.raises(ValueError): call()
    assert calls == []
