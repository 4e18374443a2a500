"Networks written the ways PyTorch users write them: function-call activations, shape arithmetic, in-place calls."
import pytest, torch
import torch.nn.functional as F
from torch import nn
from shapley_cnn.data import ImageData
from shapley_cnn.filters import FilterGame, check_network, forward_hooks

def randomize(model, seed=0):
    g = torch.Generator().manual_seed(seed)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            for t in (m.running_mean, m.weight.data, m.bias.data): t.copy_(torch.randn(t.shape, generator=g))
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) + 0.5)
    return model.eval()

ACTIVATIONS = {  # how the activation after bn1 is written -> what it computes
    'F.relu': lambda x: F.relu(x), 'F.relu in place': lambda x: F.relu(x, inplace=True), 'torch.relu': torch.relu,
    'x.relu()': lambda x: x.relu(), 'x.relu_()': lambda x: x.relu_(), 'F.silu': F.silu, 'F.hardswish': F.hardswish,
    'F.leaky_relu(x, 0.2)': lambda x: F.leaky_relu(x, 0.2), 'torch.sigmoid': torch.sigmoid,
}

class Net(nn.Module):
    "conv1 -> bn1 -> an activation written as a call -> conv2 -> bn2 -> shared ReLU module -> head, sized by x.size()."
    def __init__(self, activation):
        super().__init__()
        self.activation = activation
        self.conv1, self.bn1 = nn.Conv2d(3, 6, 3, padding=1), nn.BatchNorm2d(6)
        self.conv2, self.bn2, self.relu = nn.Conv2d(6, 6, 3, padding=1), nn.BatchNorm2d(6), nn.ReLU(inplace=True)
        self.head = nn.Linear(6, 4)
    def forward(self, x):
        x = self.activation(self.bn1(self.conv1(x)))
        x = self.relu(self.bn2(self.conv2(x)))
        x = self.relu(x)  # the module called a second time: its first call needs a module of its own
        return self.head(x.mean((2, 3)).view(x.size(0), -1))

class Reads(nn.Module):
    "The same network, but with the activation's output visible to hooks: what the next layer reads."
    def __init__(self, net):
        super().__init__(); self.net, self.after1, self.after2 = net, nn.Identity(), nn.Identity()
    def forward(self, x):
        n = self.net
        x = self.after1(n.activation(n.bn1(n.conv1(x))))
        x = self.after2(n.relu(n.bn2(n.conv2(x))))
        return n.head(n.relu(x).mean((2, 3)))

@pytest.mark.parametrize('written', ACTIVATIONS)
def test_the_mean_is_taken_where_the_next_layer_reads(written):
    g = torch.Generator().manual_seed(1)
    data, reference = [ImageData(torch.rand(n, 3, 8, 8, generator=g), torch.randint(0, 4, (n,), generator=g), 'random')
                       for n in (5, 9)]
    net = randomize(Net(ACTIVATIONS[written]))
    game = FilterGame(net, data, ['conv1', 'conv2'], 'loss', 'mean', reference)
    # brute force on a model whose reads are modules: the means and the removal there
    reads, means = Reads(net).eval(), {}
    with forward_hooks(reads, {'after1': lambda m, i, o: means.__setitem__('conv1', o.mean(0)),
                               'after2': lambda m, i, o: means.__setitem__('conv2', o.mean(0))}), torch.no_grad():
        reads(reference.images)
    for layer in ('conv1', 'conv2'): torch.testing.assert_close(game.baselines[layer], means[layer])
    coalitions = torch.rand(10, 12, generator=g) < 0.5
    def brute(c):
        keep = {'after1': c[:6], 'after2': c[6:]}
        hooks = {s: lambda m, i, o, s=s, l=l: torch.where(keep[s][:, None, None], o, means[l])
                 for s, l in (('after1', 'conv1'), ('after2', 'conv2'))}
        with forward_hooks(reads, hooks), torch.no_grad(): return game.metric(reads(data.images)[None], data.labels)
    torch.testing.assert_close(game.value(coalitions), torch.cat([brute(c) for c in coalitions]), atol=1e-5, rtol=0)
    assert game.naive_value(coalitions).sub(game.value(coalitions)).abs().max() < 1e-5
    # the caller's network is left as it was: no new modules, its ReLU still in place
    assert [n for n, _ in net.named_modules()] == ['', 'conv1', 'bn1', 'conv2', 'bn2', 'relu', 'head'] and net.relu.inplace

@pytest.mark.parametrize('written', ['F.relu in place', 'x.relu_()', 'F.hardswish'])
def test_check_network_on_calls_and_shapes(written):
    check = check_network(randomize(Net(ACTIVATIONS[written])), (3, 8, 8), layers=['conv1', 'conv2'])
    assert check['value_error'] < 1e-5 and check['walk_error'] < 1e-5, check
    assert check['site_kinds'] == {'conv1': 'activation call', 'conv2': 'activation module'}, check

def test_the_zero_baseline_leaves_the_network_as_traced():
    data = ImageData(torch.rand(3, 3, 8, 8), torch.zeros(3, dtype=torch.long), 'random')
    game = FilterGame(randomize(Net(ACTIVATIONS['F.relu'])), data, ['conv1', 'conv2'])
    assert type(game.model).__name__ == 'Net' and game.sites == {'conv1': 'bn1', 'conv2': 'bn2'}
