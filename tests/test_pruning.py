"Physical pruning equals masking on several architectures; pruning refuses bad input; the loop's bookkeeping holds."
import pytest, torch
from hypothesis import given, settings, strategies as st
from shapley_cnn.data import ImageData
from shapley_cnn.models import LeNet1, DigitCNN
from shapley_cnn.filters import FilterGame
from shapley_cnn.criteria import masked_logits, Hybrid, Random, Exact, LeaveOneOut, Taylor
from shapley_cnn.pruning import prune, compare_criteria, auc
from shapley_cnn.removal import remove_filters

torch.manual_seed(0)
DATA = ImageData(torch.rand(40, 1, 28, 28), torch.arange(40) % 10, 'uniform noise, 40 images')
LENET = LeNet1().eval()
DIGITCNN = DigitCNN(width=4).eval()

def random_alive(draw, n):
    alive = torch.tensor(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
    alive[draw(st.integers(0, n - 1))] = True  # at least one filter stays
    return alive

@settings(max_examples=15, deadline=None)
@given(st.data())
def test_lenet_pruned_equals_masked_on_both_layers(data):
    game = FilterGame(LENET, DATA, ['conv1', 'conv2'])
    alive = torch.cat([random_alive(data.draw, 4), random_alive(data.draw, 12)])
    pruned = remove_filters(game, alive)
    assert pruned.conv1.out_channels == int(alive[:4].sum()) and pruned.conv2.out_channels == int(alive[4:].sum())
    with torch.no_grad(): assert torch.allclose(pruned(DATA.images), masked_logits(game, alive, DATA.images), atol=1e-5)

@settings(max_examples=10, deadline=None)
@given(st.data())
def test_relu_maxpool_cnn_pruned_equals_masked(data):
    "DigitCNN: ReLU, max pooling, global average pooling, three conv layers pruned at once."
    layers = ['conv2', 'conv3', 'conv5']
    game = FilterGame(DIGITCNN, DATA, layers)
    alive = torch.cat([random_alive(data.draw, len(c)) for c in game.layers.values()])
    pruned = remove_filters(game, alive)
    with torch.no_grad(): assert torch.allclose(pruned(DATA.images), masked_logits(game, alive, DATA.images), atol=1e-5)
    assert sum(p.numel() for p in pruned.parameters()) <= sum(p.numel() for p in DIGITCNN.parameters())

def test_batch_norm_after_the_conv_is_removed_with_it():
    "The zero baseline removes a filter after its batch norm, so Torch-Pruning's cut (conv filter and BN channel) is the masked network."
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.BatchNorm2d(4), torch.nn.ReLU(), torch.nn.Flatten(), torch.nn.Linear(4 * 24 * 24, 10)).eval()
    torch.nn.init.constant_(model[1].bias, 1.0)
    game = FilterGame(model, DATA, '0')
    alive = torch.tensor([False, True, True, True])
    pruned = remove_filters(game, alive)
    assert pruned[0].out_channels == 3 and pruned[1].num_features == 3

def test_a_baseline_that_does_not_vanish_is_refused():
    "Zero before a sigmoid becomes 0.5 downstream: removing the filter would change the outputs, and remove_filters says so."
    model = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 5), torch.nn.Sigmoid(), torch.nn.Flatten(), torch.nn.Linear(4 * 24 * 24, 10)).eval()
    game = FilterGame(model, DATA, '0')
    alive = torch.tensor([False, True, True, True])
    with pytest.raises(ValueError, match='does not vanish downstream'): remove_filters(game, alive)

def test_every_filter_of_a_layer_cannot_go():
    game = FilterGame(LENET, DATA, 'conv2')
    with pytest.raises(ValueError, match="Every filter of 'conv2'"): remove_filters(game, torch.zeros(12, dtype=torch.bool))

CASES = [
    ("zero steps", lambda g: prune(g, 'exact', DATA, steps=0, progress=False), "steps must be an int in 1..11"),
    ("removing every filter", lambda g: prune(g, 'exact', DATA, steps=12, progress=False), "one filter must remain"),
    ("an unknown criterion", lambda g: prune(g, 'magnitude', DATA, progress=False), "Unknown criterion 'magnitude'"),
    ("an empty test set", lambda g: prune(g, 'exact', DATA.subset([]), progress=False), "non-empty ImageData"),
    ("zero trials", lambda g: compare_criteria(g, ['random'], DATA, trials=0, progress=False), "trials must be a positive int"),
    ("a mask of the wrong length", lambda g: remove_filters(g, torch.ones(5, dtype=torch.bool)), "boolean mask of the 12 players"),
    ("a shrinking hybrid schedule", lambda g: Hybrid(t=0.5), "t must be >= 1"),
]

@pytest.mark.parametrize("what,call,words", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused(what, call, words):
    with pytest.raises(ValueError) as info: call(FilterGame(LENET, DATA, 'conv2', 'loss'))
    assert words in str(info.value), f"{what}: {info.value}"

def test_each_filter_is_removed_once_and_costs_add_up():
    game = FilterGame(LENET, DATA, 'conv2', 'loss')
    runs = compare_criteria(game, [Random(), Exact(), LeaveOneOut()], DATA, trials=2, steps=5, progress=False)
    assert [len(r) for r in runs.values()] == [2, 1, 1]
    for trials in runs.values():
        for run in trials:
            assert len(set(run.removed)) == 5 and run.steps.remaining.tolist() == list(range(12, 6, -1))
    assert runs['Exact'][0].steps.evaluations.tolist() == [0, 4096, 2048, 1024, 512, 256]
    assert runs['Leave-one-out'][0].steps.evaluations.tolist() == [0, 13, 12, 11, 10, 9]
    assert prune(game, Random(), DATA, steps=5, seed=1, progress=False).removed == runs['Random'][1].removed  # a trial is repeatable

def test_auc_is_the_thesis_normalisation():
    assert auc([1, 1]) == pytest.approx(0.5)
    assert auc([1, 0, 1]) == pytest.approx(1 / 3)

def test_taylor_on_two_layers_matches_autograd():
    "Taylor scores of conv1 and conv2 at once, two filters removed, against a hand-written backward pass."
    import copy
    from shapley_cnn.games import SubGame
    game = FilterGame(LENET, DATA, ['conv1', 'conv2'], 'loss')
    alive = torch.ones(16, dtype=torch.bool); alive[[0, 7]] = False  # conv1[0] and conv2[3]
    scores, evaluations = Taylor().scores(SubGame(game, alive), 0, 0)
    net, acts = copy.deepcopy(LENET), {}
    def zeroing(name, channel):
        def hook(module, inputs, output):
            output = output.clone(); output[:, channel] = 0; output.retain_grad(); acts[name] = output
            return output
        return hook
    handles = [net.conv1.register_forward_hook(zeroing('conv1', 0)), net.conv2.register_forward_hook(zeroing('conv2', 3))]
    torch.nn.functional.cross_entropy(net(DATA.images), DATA.labels, reduction='sum').backward()
    for h in handles: h.remove()
    expected = torch.cat([(acts[l] * acts[l].grad).mean((2, 3)).abs().mean(0) for l in ('conv1', 'conv2')]).double()[alive]
    assert evaluations == 1 and torch.allclose(scores, expected, atol=1e-6)
