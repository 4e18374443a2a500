"""Regression tests for values that were wrong, each against a computation that shares no code with the library's:
a forward pass written out module by module, a permutation walk written out step by step, a table of all coalitions."""
import copy
import pytest, torch
import torch.nn.functional as F
from torch import nn
from shapley_cnn.data import ImageData
from shapley_cnn.games import FunctionGame, SubGame, TabularGame
from shapley_cnn.models import LeNet1
from shapley_cnn.filters import FilterGame
from shapley_cnn.shapley import exact_shapley, tmab_shapley, walk_permutations, random_permutations, neuron_truncation
from shapley_cnn.games import extremes
from shapley_cnn.criteria import Taylor, TMAB

torch.manual_seed(0)
DATA = ImageData(torch.rand(60, 1, 28, 28), torch.arange(60) % 10, 'uniform noise, 60 images')
REFERENCE = ImageData(torch.rand(50, 1, 28, 28), torch.arange(50) % 10, 'uniform noise, 50 other images')
LENET = LeNet1().eval()

def bn_net():
    "A Sequential CNN with batch norm after each conv, its running statistics set away from the identity."
    net = nn.Sequential(nn.Conv2d(1, 6, 5), nn.BatchNorm2d(6), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 8, 3),
                        nn.BatchNorm2d(8), nn.Tanh(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 10)).eval()
    with torch.no_grad():
        for bn in (net[1], net[5]):
            bn.running_mean.uniform_(-1, 1); bn.running_var.uniform_(0.5, 2); bn.bias.uniform_(-1, 1)
    return net

@torch.no_grad()
def loss_by_hand(net, images, labels, keep:dict, sites:dict, baseline:str, reference):
    "Minus the loss of `net` run module by module; after module `sites[layer]`, the channels not kept take their baseline."
    def run(x):
        outputs = {}
        for i, module in enumerate(net): x = module(x); outputs[i] = x
        return outputs
    means = {layer: run(reference)[site].mean(0) for layer, site in sites.items()} if baseline == 'mean' else {}
    x = images
    for i, module in enumerate(net):
        x = module(x)
        for layer, site in sites.items():
            if site == i:
                k = keep[layer].float()[:, None, None]
                x = x * k + (means[layer] if baseline == 'mean' else 0.) * (1 - k)
    return -F.cross_entropy(x, labels).item()

def coalitions(n, count=8, seed=0):
    return torch.rand(count, n, generator=torch.Generator().manual_seed(seed)) < 0.5

# 1. Layers listed out of network order
@pytest.mark.parametrize("layers", [['conv2', 'conv1'], ['conv1', 'conv2']])
def test_layers_in_any_order_give_the_brute_force_values(layers):
    game = FilterGame(LENET, DATA, layers, 'loss')
    sizes = [len(c) for c in game.layers.values()]
    for coalition in coalitions(16):
        keep = dict(zip(layers, coalition.split(sizes)))
        expected = loss_by_hand(LENET, DATA.images, DATA.labels, keep, dict(conv1=0, conv2=3), 'zero', None)
        assert game(coalition).item() == pytest.approx(expected, abs=1e-5)

def test_layer_order_only_reorders_the_players():
    channels = dict(conv2=[0, 3, 5, 7, 11])
    listed = FilterGame(LENET, DATA, ['conv2', 'conv1'], channels=channels)
    ordered = FilterGame(LENET, DATA, ['conv1', 'conv2'], channels=channels)
    a, b = exact_shapley(listed).values, exact_shapley(ordered).values
    assert torch.allclose(a, torch.cat([b[4:], b[:4]]), atol=1e-12)
    assert listed.players[:5] == ordered.players[4:] and a[5:].abs().sum() > 0  # conv1's filters count

# 2. TMAB's range R is a bound, not the spread seen so far
def rare_game(n=12):
    "v({n-1}) = 50, otherwise 0.01 |S|: player n-1's marginal of 50 shows in one permutation in n."
    def value(c): return torch.where(c[:, -1] & (c.sum(1) == 1), 50., 0.01 * c.sum(1).double())
    return TabularGame.of(FunctionGame(value, n))

def test_tmab_finds_a_rare_top_player_every_time():
    game = rare_game()
    assert game.marginal_range == pytest.approx(49.99)
    assert exact_shapley(game).values.argmax().item() == 11
    assert all(tmab_shapley(game, k=1, seed=seed, progress=False).top(1).index[0] == 11 for seed in range(12))

def test_tmab_without_a_bound_is_refused_and_accuracy_brings_its_own():
    with pytest.raises(ValueError, match='pass bounds=\(low, high\) or value_range=R'): tmab_shapley(FunctionGame(lambda c: c.sum(1).double(), 4), k=1)
    assert FilterGame(LENET, DATA, 'conv2', 'accuracy').marginal_range == 2.
    assert FilterGame(LENET, DATA, 'conv2', 'accuracy').marginal_bounds == (-1., 1.)
    loss_game = FilterGame(LENET, DATA, 'conv2', 'loss')
    bound, spent = TMAB().bound(SubGame(loss_game, torch.ones(12, dtype=torch.bool)), 0)
    assert spent == 4096 and bound == pytest.approx(TabularGame.of(loss_game).marginal_range)

# 3. Neuron Shapley's truncation is one-sided: a value far below the dead level stops the walk
def test_dead_network_truncation_stops_below_the_level():
    weights = torch.rand(9, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    game = FunctionGame(lambda c: -((~c).double() @ weights) ** 2, 9)
    rule = neuron_truncation(dead_level=-0.5, tolerance=0.05, patience=2)
    perms = random_permutations(12, 9, torch.Generator().manual_seed(2))
    walked, _ = walk_permutations(game, perms, torch.ones(12, 9, dtype=torch.bool), extremes(game), rule)
    for perm, marginals in zip(perms, walked):
        coalition, before, run = torch.ones(9, dtype=torch.bool), 0., 0
        expected = torch.zeros(9, dtype=torch.float64)
        for player in perm.tolist():
            if run >= 2: break
            coalition[player] = False
            after = -(weights[~coalition].sum().item()) ** 2
            expected[player], before = before - after, after
            run = run + 1 if after <= -0.5 + 0.05 else 0
        assert torch.allclose(marginals, expected, atol=1e-12)
        assert (marginals == 0).sum() > 0  # the walk stopped before the end

# 3b. Where a walk stops does not depend on which marginals are wanted: the rule looked only at the steps evaluated
#     for the wanted players, so as TMAB decided players a walk stopped later and the same player's marginal on the
#     same permutation changed (on DigitCNN, a filter's mean over 16 walks moved by 0.0098, half the 10th value)
@pytest.mark.parametrize("stride", [1, 4])
def test_truncation_does_not_depend_on_the_wanted_players(stride):
    weights = torch.rand(30, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    game = FunctionGame(lambda c: -((~c).double() @ weights) ** 2 + 0.05 * c[:, 0].double(), 30)
    rule = neuron_truncation(dead_level=-4., tolerance=0.5, patience=3, stride=stride)
    perms = random_permutations(40, 30, torch.Generator().manual_seed(4))
    every, n_every = walk_permutations(game, perms, torch.ones(40, 30, dtype=torch.bool), extremes(game), rule)
    few = torch.zeros(30, dtype=torch.bool); few[[0, 11, 29]] = True
    some, n_some = walk_permutations(game, perms, few.expand(40, 30), extremes(game), rule)
    assert torch.equal(some[:, few], every[:, few])
    assert (every == 0).any(1).all()  # the walks were truncated
    assert n_some < n_every if stride > 1 else n_some == n_every  # every step is a look at stride 1

# 4. A removed filter is removed after its batch norm (zero baseline), or after its activation too (mean baseline,
#    the mean of what the next layers see over held-out images)
@pytest.mark.parametrize("baseline,sites", [('zero', {'0': 1, '4': 5}), ('mean', {'0': 2, '4': 6})])
def test_baselines_against_a_forward_pass_by_hand(baseline, sites):
    net = bn_net()
    game = FilterGame(net, DATA, ['4', '0'], 'loss', baseline, REFERENCE)
    for coalition in coalitions(14):
        keep = {'4': coalition[:8], '0': coalition[8:]}
        expected = loss_by_hand(net, DATA.images, DATA.labels, keep, sites, baseline, REFERENCE.images)
        assert game(coalition).item() == pytest.approx(expected, abs=1e-5)

def test_mean_baseline_needs_held_out_images():
    with pytest.raises(ValueError, match='needs reference='): FilterGame(LENET, DATA, 'conv2', baseline='mean')

def test_zero_baseline_of_the_thesis_is_unchanged():
    "Zero before the tanh: the conv output channel is zeroed, as the pruning thesis does."
    game = FilterGame(LENET, DATA, 'conv2', 'loss')
    keep = torch.ones(12, dtype=torch.bool); keep[[2, 5]] = False
    assert game(keep).item() == pytest.approx(loss_by_hand(LENET, DATA.images, DATA.labels, {'conv2': keep}, {'conv2': 3}, 'zero', None), abs=1e-6)

# 5. Taylor with the mean baseline scores (a - baseline) * gradient
def test_taylor_with_the_mean_baseline():
    game = FilterGame(LENET, DATA, 'conv2', 'loss', 'mean', REFERENCE)
    alive = torch.ones(12, dtype=torch.bool)
    scores, _ = Taylor().scores(SubGame(game, alive), 0, 0)
    net = copy.deepcopy(LENET)
    with torch.no_grad(): mean = net.act2(net[:4](REFERENCE.images)).mean(0)
    acts = {}
    def grab(m, i, o): o = o.detach().requires_grad_(); acts['a'] = o; return o
    handle = net.act2.register_forward_hook(grab)
    loss = F.cross_entropy(net(DATA.images), DATA.labels, reduction='sum'); handle.remove()
    (grad,) = torch.autograd.grad(loss, [acts['a']])
    expected = ((acts['a'] - mean) * grad).mean((2, 3)).abs().mean(0).double()
    assert torch.allclose(scores, expected, atol=1e-6)
    assert not torch.allclose(scores, (acts['a'] * grad).mean((2, 3)).abs().mean(0).double(), atol=1e-4)

# 5. --seed and --device reach the work
def test_seed_reaches_splits_training_and_trials_and_device_reaches_the_game():
    from shapley_cnn.cli import parser, experiment
    args = vars(parser().parse_args(['prune', '--seed', '4', '--device', 'cpu', '--no-progress']))
    setup = experiment(args['metric'], **{k: args[k] for k in ('data', 'model', 'layers', 'baseline', 'seed', 'mnist_root',
                                                               'device', 'progress')})
    assert (setup.split_seed, setup.train_seed, setup.sample_seed, setup.device) == (4, 4, 4, 'cpu')
    from shapley_cnn.pruning import compare_criteria
    runs = compare_criteria(FilterGame(LENET, DATA, 'conv2', 'loss'), ['random'], DATA, trials=2, steps=1, progress=False,
                            seed=setup.sample_seed)
    assert [r.trial for r in runs['Random']] == [4, 5]
