"""The walk engine against brute-force forward passes with hooks, and the sampling estimators it drives against
exact values."""
import pytest, torch
import torchvision.models as tvm
from torch import nn
from shapley_cnn.data import ImageData, load_splits
from shapley_cnn.games import FunctionGame, extremes
from shapley_cnn.models import DigitCNN, train_model
from shapley_cnn.filters import FilterGame
from shapley_cnn.shapley import (Truncation, exact_shapley, permutation_shapley, tmab_shapley, walk_permutations,
                                 random_permutations)

def noise(n, channels, size, seed=0):
    g = torch.Generator().manual_seed(seed)
    return ImageData(torch.rand(n, channels, size, size, generator=g), torch.arange(n) % 10, f'uniform noise, {n} images')

def with_random_batch_norms(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                for t in (m.running_mean, m.weight, m.bias): t.copy_(torch.randn(t.shape, generator=g))
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model.eval()

NETWORKS = {
    'DigitCNN': lambda: (DigitCNN(width=16).eval(), ['conv1', 'conv3', 'conv5'], noise(12, 1, 28)),
    'ResNet-18': lambda: (with_random_batch_norms(tvm.resnet18(num_classes=10)),
                          ['layer1.0.conv1', 'layer2.0.downsample.0', 'layer3.1.conv2'], noise(6, 3, 32)),
    'MobileNetV2': lambda: (with_random_batch_norms(tvm.mobilenet_v2(num_classes=10)),
                            ['features.2.conv.0.0', 'features.5.conv.1.0', 'features.10.conv.2'], noise(6, 3, 32)),
}

def brute_force(game):
    "The same game, every coalition a full forward pass of the network with hooks."
    return FunctionGame(game.naive_value, game.n_players, game.players, f"brute force of {game.name}")

@pytest.mark.parametrize("network", list(NETWORKS))
@pytest.mark.parametrize("direction", ['add', 'remove'])
def test_walks_equal_full_forward_passes_with_hooks(network, direction):
    model, layers, data = NETWORKS[network]()
    channels = {l: list(range(0, 2 * 6, 2)) for l in layers}  # 6 filters of each of three layers
    game = FilterGame(model, data, layers, 'loss', channels=channels)
    ends = extremes(game)
    perms = random_permutations(3, game.n_players, torch.Generator().manual_seed(1))
    wanted = torch.rand(3, game.n_players, generator=torch.Generator().manual_seed(2)) < 0.7
    rule = None if direction == 'add' else Truncation(0., 1, -1e9, 'remove')  # a removal walk that never stops
    fast, fast_evals = walk_permutations(game, perms, wanted, ends, rule)
    slow, _ = walk_permutations(brute_force(game), perms, wanted, ends, rule)
    assert (fast - slow).abs().max().item() < 1e-5
    assert fast_evals > 0 and (fast[~wanted] == 0).all()

def test_truncated_walks_stop_where_the_brute_force_ones_do():
    model, layers, data = NETWORKS['DigitCNN']()
    game = FilterGame(model, data, layers, 'accuracy')
    perms = random_permutations(4, game.n_players, torch.Generator().manual_seed(3))
    wanted = torch.ones_like(perms, dtype=torch.bool)
    rule = Truncation(0.0, 2, 0.1, 'remove')
    fast, _ = walk_permutations(game, perms, wanted, extremes(game), rule)
    slow, _ = walk_permutations(brute_force(game), perms, wanted, extremes(game), rule)
    assert torch.equal(fast, slow)

def test_each_permutation_gets_its_own_batch_the_same_every_time():
    game = FilterGame(DigitCNN(width=4).eval(), noise(40, 1, 28), 'conv2', images_per_walk=8)
    perms = random_permutations(3, game.n_players, torch.Generator().manual_seed(0))
    batches = game.walk_images(perms)
    assert batches.shape == (3, 8) and torch.equal(batches, game.walk_images(perms.clone()))
    assert not torch.equal(batches[0], batches[1]) and all(len(set(b.tolist())) == 8 for b in batches)
    with pytest.raises(ValueError, match='images_per_walk'): FilterGame(DigitCNN(width=4), noise(4, 1, 28), images_per_walk=0)

@pytest.fixture(scope='module')
def lenet_game():
    "14 filters over two layers of LeNet-1 trained on the digits: conv1's 4 and 10 of conv2's 12."
    splits = load_splits('digits')
    lenet = train_model('lenet1', splits['train'], splits['valid'], progress=False)
    game = FilterGame(lenet, splits['shapley'].subset(range(60)), ['conv1', 'conv2'],
                      channels=dict(conv1=[0, 1, 2, 3], conv2=list(range(10))))
    return game, exact_shapley(game)

def test_permutation_estimates_agree_with_exact_values(lenet_game):
    game, exact = lenet_game
    sampled = permutation_shapley(game, 400, seed=0, progress=False)
    assert ((sampled.values - exact.values).abs() <= 4 * sampled.stderr + 1e-9).all()

def test_permutation_estimates_on_a_fresh_batch_per_walk_agree_with_exact_values(lenet_game):
    game, exact = lenet_game
    batched = FilterGame(game.model, game.data, list(game.layers), channels=game.layers, images_per_walk=20)
    sampled = permutation_shapley(batched, 600, seed=0, progress=False)
    assert ((sampled.values - exact.values).abs() <= 4 * sampled.stderr + 1e-9).all()

def test_tmab_estimates_agree_with_exact_values_and_find_the_top(lenet_game):
    game, exact = lenet_game
    tmab = tmab_shapley(game, k=3, seed=0, progress=False, max_permutations=3000)
    assert ((tmab.values - exact.values).abs() <= 4 * tmab.stderr + 1e-9).all()
    assert tmab.params['undecided'] == 0, "the top 3 should be certified within the budget"
    assert set(tmab.values.topk(3).indices.tolist()) == set(exact.values.topk(3).indices.tolist())

def test_tmab_stops_at_its_time_budget(lenet_game):
    game, _ = lenet_game
    assert tmab_shapley(game, k=3, seed=0, progress=False, max_seconds=0.).params['n_permutations'] == 0
    unlimited = tmab_shapley(game, k=3, seed=0, progress=False, max_seconds=None, max_permutations=16, round_size=8)
    assert unlimited.params['n_permutations'] == 16

def test_class_games_value_one_class_and_their_order_skips_the_global_top():
    from shapley_cnn.experiment import Experiment
    from shapley_cnn.neurons import class_game, class_filter_order
    from shapley_cnn.shapley import ShapleyValues
    setup = Experiment('digits', 'lenet1', progress=False)
    game = class_game(setup, 3)
    assert (game.data.labels == 3).all() and len(game.data) == (setup.splits['shapley'].labels == 3).sum()
    assert game.n_players == 16 and game.images_per_walk is None
    overall = ShapleyValues(torch.arange(16.), torch.zeros(16), torch.ones(16), 0, 'test', {}, game.players)
    order = class_filter_order(torch.arange(16), overall, exclude=0.25)  # the global top 4 are players 12..15
    assert order.tolist() == list(range(12))
    with pytest.raises(ValueError, match='cls must be a class'): class_game(setup, 10)

def test_pgd_stays_in_its_ball_and_fools_the_network():
    from shapley_cnn.experiment import Experiment
    from shapley_cnn.repair import pgd_attack
    setup = Experiment('digits', 'lenet1', progress=False)
    clean = setup.splits['test'].subset(range(64))
    attacked = pgd_attack(setup.network, clean, eps=0.3)
    assert ((attacked.images - clean.images).abs().max() <= 0.3 + 1e-6) and attacked.images.min() >= 0
    assert (attacked.labels != clean.labels).all()
    with torch.no_grad(): success = (setup.network(attacked.images).argmax(1) == attacked.labels).float().mean()
    assert success > 0.5, f"PGD towards a random class succeeded on only {success:.0%} of the images"

def values_of(numbers, method='permutation', players=None):
    from shapley_cnn.shapley import ShapleyValues
    v = torch.tensor(numbers, dtype=torch.float64)
    return ShapleyValues(v, torch.zeros_like(v), torch.full(v.shape, 4), 5 * len(v), method,
                         dict(n_permutations=5), players or [f"f{i}" for i in range(len(v))])

def test_negative_first_orders_only_the_filters_of_negative_value():
    from shapley_cnn.repair import negative_first
    assert negative_first(values_of([0.3, -0.1, 0.0, -0.5, 0.2])).tolist() == [3, 1]

def test_compare_values_measures_agreement_and_refuses_other_players():
    from shapley_cnn.neurons import compare_values
    a, b = values_of([0.5, 0.1, 0.3, -0.2]), values_of([1.0, 0.2, 0.6, -0.4], 'tmab')
    same = compare_values(a, b, k=2)
    assert same['r2'] == pytest.approx(1) and same['rank_correlation'] == pytest.approx(1) and same['common_top'] == 2
    assert same['cost']['tmab']['coalitions_per_walk'] == 4
    flipped = compare_values(a, values_of([-0.5, -0.1, -0.3, 0.2]), k=2)
    assert flipped['rank_correlation'] == pytest.approx(-1) and flipped['common_top'] == 0
    with pytest.raises(ValueError, match='different players'): compare_values(a, values_of([1, 2, 3, 4], players=list('abcd')))
    from scipy.stats import spearmanr  # ties share their mean rank: not an order of argsort
    tied_a, tied_b = [0.0, 0.0, 0.3, 0.1, 0.0], [0.2, 0.1, 0.3, 0.3, 0.0]
    assert compare_values(values_of(tied_a), values_of(tied_b))['rank_correlation'] == pytest.approx(spearmanr(tied_a, tied_b).statistic)
    twice = compare_values(b, b, k=10)  # k beyond the players: all of them; two estimates by the same method keep their own costs
    assert twice['common_top'] == 4 and len(twice['cost']) == 2 and all(c['walks'] == b.params['n_permutations'] for c in twice['cost'].values())

def test_removal_curve_stops_where_the_order_ends():
    from shapley_cnn.games import FunctionGame
    from shapley_cnn.neurons import removal_curve
    game = FunctionGame(lambda c: c.double().sum(1), 5)
    assert removal_curve(game, torch.tensor([4, 2]), steps=10).tolist() == [5, 4, 3]
