"""The package's layers: its import graph (no cycle, no private name taken from another module) and the caller's
network left as it was (weights, buffers, modes, devices, `inplace` flags, hooks) by every public function that takes one."""
import ast, importlib, inspect, pkgutil
from collections import OrderedDict
from pathlib import Path
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import pytest, torch
from torch import nn
import shapley_cnn
from shapley_cnn.data import ImageData, load_digits

PACKAGE = Path(shapley_cnn.__file__).parent
MODULES = sorted(p.stem for p in PACKAGE.glob('*.py') if not p.stem.startswith('_'))

def _imports(module:str):
    "(module imported, names taken, line) for every import of another module of the package, at any depth."
    for node in ast.walk(ast.parse((PACKAGE / f'{module}.py').read_text())):
        if isinstance(node, ast.ImportFrom):
            name = node.module or ''
            if node.level == 1: target = name.split('.')[0]
            elif name.startswith('shapley_cnn.'): target = name.split('.')[1]
            else: continue
            yield target, [a.name for a in node.names], node.lineno
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.startswith('shapley_cnn.'): yield a.name.split('.')[1], [], node.lineno

def test_no_module_takes_another_modules_private_name():
    taken = [f"{m}.py:{line} takes {n} from {t}" for m in MODULES for t, names, line in _imports(m)
             for n in names if n.startswith('_') and t != m]
    assert not taken, taken

def test_the_import_graph_has_no_cycle():
    graph = {m: {t for t, _, _ in _imports(m) if t != m and t in MODULES} for m in MODULES}
    def cycle_from(node, path):
        for t in sorted(graph[node]):
            if t in path: return path[path.index(t):] + [t]
            if (found := cycle_from(t, path + [t])): return found
    cycles = [c for m in MODULES if (c := cycle_from(m, [m]))]
    assert not cycles, f"import cycles (imports inside functions count): {cycles[0]}"

class Blocks(nn.Module):
    "Two VGG-style blocks with batch norm and in-place ReLUs, then a linear head."
    def __init__(self):
        super().__init__()
        block = lambda i, o: nn.Sequential(OrderedDict(conv1=nn.Conv2d(i, o, 3, padding=1), bn1=nn.BatchNorm2d(o),
                                                       relu1=nn.ReLU(inplace=True), pool=nn.MaxPool2d(2)))
        self.features = nn.Sequential(OrderedDict(block1=block(1, 4), block2=block(4, 8)))
        self.fc = nn.Linear(8 * 7 * 7, 10)
    def forward(self, x): return self.fc(torch.flatten(self.features(x), 1))

def _state(model:nn.Module)->dict:
    "All a caller can see of a network."
    return dict(tensors={k: v.clone() for k, v in model.state_dict().items()},
                modes={n: m.training for n, m in model.named_modules()},
                grads={n: p.requires_grad for n, p in model.named_parameters()},
                inplace={n: m.inplace for n, m in model.named_modules() if hasattr(m, 'inplace')},
                hooks=sum(len(m._forward_hooks) + len(m._forward_pre_hooks) + len(m._backward_hooks) for m in model.modules()),
                devices={str(t.device) for t in model.state_dict().values()},
                modules={n: id(m) for n, m in model.named_modules()})

def _same(before:dict, after:dict):
    for key in before:
        if key == 'tensors':
            changed = [k for k in before[key] if not torch.equal(before[key][k], after[key][k])]
            assert not changed, f"changed tensors: {changed}"
        elif isinstance(before[key], dict):
            changed = {k: (v, after[key].get(k)) for k, v in before[key].items() if after[key].get(k) != v}
            assert not changed and set(before[key]) == set(after[key]), f"{key} changed (before, after): {changed}"
        else: assert before[key] == after[key], f"{key}: {before[key]} -> {after[key]}"

@pytest.fixture(scope='module')
def digits():
    data = load_digits()
    one_each = torch.stack([(data.labels == c).nonzero()[0, 0] for c in range(10)])
    return data.subset(torch.cat([one_each, torch.arange(100, 110)]), "20 digits, one of each class first")

def _calls(data:ImageData, tmp:Path)->dict:
    "A call of each public function that takes a network, on small settings."
    from shapley_cnn import datavalue, explain, featuremaps, filters, layer_shap, models, removal, repair, walks, games
    from shapley_cnn.experiment import Experiment
    x, few, conv = data.images, data.subset(torch.arange(4)), 'features.block1.conv1'
    def hooked(m):
        with filters.forward_hooks(m, {'fc': lambda *a: None}): assert len(m.fc._forward_hooks) == 1
    def saved(m):
        torch.save(m.state_dict(), tmp / 'w.pt')
        return models.load_weights(m, tmp / 'w.pt')
    def in_eval(m):
        with models.eval_mode(m): models.evaluate_model(m, few)
    def plotted(m): plt.close(featuremaps.plot_feature_maps(m, data, conv, torch.arange(4.)))
    return {
        'last_linear': lambda m: datavalue.last_linear(m),
        'penultimate_features': lambda m: datavalue.penultimate_features(m, data),
        'deeplift_ready': lambda m: explain.deeplift_ready(m),
        'image_values': lambda m: explain.image_values(m, few, n_background=2, n_samples=2),
        'superpixel_shapley': lambda m: explain.superpixel_shapley(m, few, x[:2], few.labels, patch=14, n_samples=1),
        'feature_maps': lambda m: featuremaps.feature_maps(m, x[:2], conv),
        'plot_feature_maps': plotted,
        'conv_layers': lambda m: filters.conv_layers(m),
        'layer_channels': lambda m: filters.layer_channels(m, [conv]),
        'output_site': lambda m: filters.output_site(m, conv),
        'output_sites': lambda m: filters.output_sites(m, [conv]),
        'FilterGame': lambda m: games.evaluate(filters.FilterGame(m, few, conv), torch.ones(2, 4, dtype=torch.bool)),
        'check_fit': lambda m: filters.check_fit(m, few, torch.device('cpu')),
        'forward_hooks': hooked,
        'gate_forward': lambda m: filters.gate_forward(m, few, conv)(torch.ones(2, 4)),
        'check_network': lambda m: filters.check_network(m, (1, 28, 28), [conv], channels=2, coalitions=2, images=2),
        'block_layers': lambda m: layer_shap.block_layers(m),
        'find_layer': lambda m: layer_shap.find_layer(m, 'fc'),
        'layer_attributions': lambda m: layer_shap.layer_attributions(m, x[:2], ['features.block1'], n_samples=2),
        'completeness': lambda m: layer_shap.completeness(m, x[:2], ['features.block1'], n_steps=4),
        'last_conv': lambda m: layer_shap.last_conv(m, 'block2'),
        'channel_comparison': lambda m: layer_shap.channel_comparison(m, x[0], 'block2', background=x[:2],
                                                                       n_permutations=2, n_samples=2),
        'evaluate_model': lambda m: models.evaluate_model(m, data),
        'load_weights': saved,
        'eval_mode': in_eval,
        'eval_copy': lambda m: models.eval_copy(m),
        'latency_ms': lambda m: removal.latency_ms(m, x[:2], min_run_time=0.01),
        'size_table': lambda m: removal.size_table({'blocks': m}, x[:2], min_run_time=0.01),
        'pgd_attack': lambda m: repair.pgd_attack(m, few, steps=2),
        'trace': lambda m: walks.trace(m),
        'called_modules': lambda m: walks.called_modules(m),
        'with_activation_modules': lambda m: walks.with_activation_modules(m, [conv]),
        'WalkEngine': lambda m: walks.WalkEngine(m, ['features.block1.bn1'], [torch.zeros(4, 28, 28)],
                                                 [(0, c) for c in range(4)], x[:1]),
        'Experiment': lambda m: Experiment((x, data.labels), m, conv, progress=False).network,
    }

CHECKED = ['last_linear', 'penultimate_features', 'deeplift_ready', 'image_values', 'superpixel_shapley', 'feature_maps',
           'plot_feature_maps', 'conv_layers', 'layer_channels', 'output_site', 'output_sites', 'FilterGame',
           'check_fit', 'forward_hooks', 'gate_forward', 'check_network', 'block_layers', 'find_layer',
           'layer_attributions', 'completeness', 'last_conv', 'channel_comparison', 'evaluate_model', 'load_weights',
           'eval_mode', 'eval_copy', 'latency_ms', 'size_table', 'pgd_attack', 'trace', 'called_modules', 'with_activation_modules',
           'WalkEngine', 'Experiment']
# functions that take a network and are meant to change it
CHANGE_IT = {'fit': 'trains the network in place, as documented'}

def _takes_a_network(obj)->bool:
    try: params = inspect.signature(obj).parameters.values()
    except (TypeError, ValueError): return False
    return any('Module' in str(p.annotation) for p in params)

def test_every_public_function_that_takes_a_network_is_checked(digits, tmp_path):
    found = set()
    for m in MODULES:
        module = importlib.import_module(f'shapley_cnn.{m}')
        for name in getattr(module, '__all__', []):
            obj = getattr(module, name)
            if callable(obj) and getattr(obj, '__module__', None) == module.__name__ and _takes_a_network(obj): found.add(name)
    assert set(_calls(digits, tmp_path)) == set(CHECKED)
    unchecked = found - set(CHECKED) - set(CHANGE_IT) - {'traced_site'}  # that one takes a traced graph
    assert not unchecked, f"public functions taking a network with no check below: {sorted(unchecked)}"

@pytest.mark.parametrize('name', CHECKED)
def test_the_callers_network_is_left_as_it_was(name, digits, tmp_path):
    torch.manual_seed(0)
    model = Blocks().train()
    model.features.block1.bn1.eval()  # a network in mixed modes (a frozen batch norm) must come back mixed
    if name == 'WalkEngine': model.eval()  # the engine takes a network in eval mode
    before = _state(model)
    _calls(digits, tmp_path)[name](model)
    _same(before, _state(model))
