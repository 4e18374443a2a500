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
    ("an unknown bound", lambda: tmab_shapley(glove, k=1, bound='chernoff'), ValueError, "'betting', 'eb', 'bernstein', 'hoeffding'"),
    ("zero permutations", lambda: permutation_shapley(glove, 0), ValueError, "n_permutations must be a positive int"),
    ("negative permutations", lambda: permutation_shapley(glove, -5), ValueError, "n_permutations must be a positive int"),
    ("an odd number of antithetic permutations", lambda: permutation_shapley(glove, 7, antithetic=True), ValueError, "must be even"),
    ("TMAB on a game that declares no bound on its marginals", lambda: tmab_shapley(FunctionGame(lambda c: c.sum(1).double(), 3), k=1), ValueError, "pass bounds=(low, high) or value_range=R"),
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

# ---- the library's other front doors: each mistake one clear exception, raised before any training ----
import json, os, signal, subprocess, sys, time, warnings
from pathlib import Path
from shapley_cnn.games import WeightedVotingGame, as_device
from shapley_cnn.shapley import ShapleyValues, Checkpoint
from shapley_cnn.datavalue import knn_shapley, data_value_study, data_setups
from shapley_cnn.data import results_folder
from shapley_cnn.experiment import Experiment
from shapley_cnn.models import fit, train_model, LeNet1
from shapley_cnn.jobs import filter_shapley
from shapley_cnn.neurons import neuron_study
from shapley_cnn.pruning_jobs import pruning_study
from shapley_cnn.explain import image_value_study, image_setups
from shapley_cnn.layer_shap import layer_shap_study, layer_setup
from shapley_cnn.data import load_digits, split_data
from shapley_cnn.cli import main

from shapley_cnn.data import ImageData
from shapley_cnn.filters import FilterGame
from shapley_cnn.walks import WalkEngine
NO_GPU = not torch.cuda.is_available()

class Assigns(torch.nn.Module):
    def __init__(self): super().__init__(); self.conv = torch.nn.Conv2d(1, 4, 3)
    def forward(self, x):
        x = self.conv(x); x[:, 0] = 0
        return x.mean((2, 3))
class BatchSecond(Assigns):
    def forward(self, x): return self.conv(x).transpose(0, 1).mean((1, 2, 3))[None].expand(x.size(0), -1)
def walk_engine_on(model): return WalkEngine(model, ['conv'], [torch.zeros(4, 1, 1)], [(0, 0)], torch.rand(1, 1, 8, 8))
digits = load_digits().subset(range(40))
feats = torch.rand(4, 2)

MORE = [  # (what the user did, call, exception, words the message must contain)
    ("a value function where a game belongs (exact)", lambda: exact_shapley(lambda c: c.sum(1)), TypeError, "wrap a value function of a batch of coalitions as FunctionGame"),
    ("a value function where a game belongs (permutation)", lambda: permutation_shapley(lambda c: c.sum(1), 10), TypeError, "permutation_shapley takes a Game"),
    ("a value function where a game belongs (TMAB)", lambda: tmab_shapley(lambda c: c.sum(1), k=1), TypeError, "tmab_shapley takes a Game"),
    ("a sparse game of no players", lambda: sparse_game(0), ValueError, "n_players must be a positive int"),
    ("more large players than players", lambda: sparse_game(3, n_large=5), ValueError, "n_large must be an int between 0 and n_players=3"),
    ("a quota no coalition reaches", lambda: WeightedVotingGame([7] * 5, quota=40), ValueError, "no coalition wins"),
    ("a quota the empty coalition reaches", lambda: WeightedVotingGame([1, 2], quota=0), ValueError, "even the empty coalition wins"),
    ("string labels for KNN-Shapley", lambda: knn_shapley(feats, ['a', 'b', 'a', 'b'], feats[:2], ['a', 'b']), TypeError, "must be integer class labels, got list of str"),
    ("negative labels for KNN-Shapley", lambda: knn_shapley(feats, [0, -1, 0, 1], feats[:2], [0, 1]), ValueError, "class numbers >= 0"),
    ("an unknown device", lambda: as_device('tpu'), ValueError, "Unknown device 'tpu': use 'cpu', 'cuda'"),
    ("no epochs", lambda: Experiment(epochs=0), ValueError, "epochs must be a positive int"),
    ("an unknown device in an experiment", lambda: Experiment(device='tpu'), ValueError, "Unknown device 'tpu'"),
    ("no epochs in fit", lambda: fit(LeNet1(), digits, digits, epochs=0), ValueError, "epochs must be a positive int"),
    ("no GradientShap samples", lambda: image_value_study(image_setups(('lenet1',)), n_samples=0), ValueError, "n_samples must be a positive int"),
    ("an unknown explained class", lambda: image_value_study(image_setups(('lenet1',)), target='best'), ValueError, "target must be 'predicted' or 'true'"),
    ("no layer SHAP samples", lambda: layer_shap_study(n_samples=0), ValueError, "n_samples must be a positive int"),
    ("the same class twice for the two-class classifier", lambda: layer_setup(classes=(3, 3)), ValueError, "two or more different classes"),
    ("no neighbours for Data Shapley", lambda: data_value_study(k=0), ValueError, "k must be a positive int"),
    ("a share of flipped labels above 1", lambda: Experiment(label_noise=2.0), ValueError, "label_noise must lie in [0, 1]"),
    ("an unknown network for Data Shapley", lambda: data_setups(('alexnet',)), ValueError, "Unknown model 'alexnet'"),
    ("an unknown method as one string", lambda: filter_shapley(Experiment(progress=False), methods='shapley'), ValueError, "Unknown method 'shapley'"),
]
class UnusedConv(torch.nn.Module):
    "A conv the forward never calls."
    def __init__(self):
        super().__init__(); self.used, self.unused, self.head = torch.nn.Conv2d(1, 2, 3), torch.nn.Conv2d(1, 2, 3), torch.nn.Linear(2, 10)
    def forward(self, x): return self.head(self.used(x).mean((2, 3)))

images = lambda *shape: torch.rand(3, *shape)
MORE += [
    ("a layer that is not a conv", lambda: FilterGame(LeNet1(), digits, 'fc'), ValueError, "'fc' is a Linear, not a Conv2d"),
    ("a conv the forward never calls", lambda: FilterGame(UnusedConv(), digits, 'unused'), ValueError, "'unused' is never called in the model's forward"),
    ("RGB images for a grey-scale network", lambda: FilterGame(LeNet1(), ImageData(images(3, 28, 28), torch.zeros(3, dtype=torch.long), 'rgb'), 'conv1'), ValueError, "Images of shape (3, 28, 28) (rgb) do not fit the model"),
    ("images too small for the network", lambda: FilterGame(LeNet1(), ImageData(images(1, 8, 8), torch.zeros(3, dtype=torch.long), 'tiny'), 'conv1'), ValueError, "Images of shape (1, 8, 8) (tiny) do not fit the model"),
    ("reference images of another shape", lambda: FilterGame(LeNet1(), digits, 'conv1', baseline='mean', reference=ImageData(images(1, 8, 8), torch.zeros(3, dtype=torch.long), 'tiny')), ValueError, "(tiny) do not fit the model"),
    ("labels beyond the network's classes", lambda: FilterGame(LeNet1(), ImageData(images(1, 28, 28), torch.tensor([0, 3, 12]), 'twelve'), 'conv1'), ValueError, "The labels of twelve run from 0 to 12, but the model has 10 classes"),
    ("negative labels", lambda: FilterGame(LeNet1(), ImageData(images(1, 28, 28), torch.tensor([0, -1, 2]), 'negative'), 'conv1'), ValueError, "run from -1 to 2"),
    ("walks on a forward that assigns into a tensor", lambda: walk_engine_on(Assigns()), ValueError, "it assigns into a tensor (`x[...] = ...`)"),
    ("walks on a forward that moves the images off the first dimension", lambda: walk_engine_on(BatchSecond()), ValueError, "the images are not its first dimension"),
]
if NO_GPU: MORE += [
    ("a GPU on a machine without one", lambda: as_device('cuda'), ValueError, "PyTorch sees no CUDA GPU here"),
    ("a GPU in an experiment on a machine without one", lambda: Experiment(device='cuda'), ValueError, "sees no CUDA GPU"),
]

@pytest.mark.parametrize("what,call,error,words", MORE, ids=[c[0] for c in MORE])
def test_more_bad_input_is_refused(what, call, error, words):
    with pytest.raises(error) as info: call()
    assert words in str(info.value), f"{what}: {info.value}"

@pytest.fixture
def fresh_cache(tmp_path, monkeypatch):
    "An empty model cache: a test that trains nothing leaves it without weights."
    monkeypatch.setenv('SHAPLEY_CNN_CACHE', str(tmp_path / 'cache'))
    return tmp_path / 'cache'

def trained(cache:Path)->list: return sorted(p.name for p in (cache / 'models').glob('*.pt')) if (cache / 'models').exists() else []

BEFORE_TRAINING = [  # mistakes that only the network's shape or the data reveal, refused before the network is trained
    ("a class the data does not have", lambda: Experiment(progress=False).game(metric='recall:12'), "asks for class 12, but the data has 10 classes"),
    ("a layer the network does not have", lambda: Experiment(layers='conv9', progress=False).game(), "No layer named 'conv9'"),
    ("a top k larger than the filters (TMAB)", lambda: filter_shapley(Experiment(progress=False), methods='tmab', k=13), "between 1 and 12 (the number of filters)"),
    ("a top k larger than the filters (Neuron Shapley)", lambda: neuron_study(Experiment(model='digitcnn', progress=False), k=1000), "between 1 and 320 (the number of filters)"),
    ("negative removal steps", lambda: neuron_study(Experiment(model='digitcnn', progress=False), steps=-1), "steps must be an int >= 0"),
    ("negative fine-tuning epochs", lambda: pruning_study(Experiment(metric='loss', progress=False), finetune_epochs=-1), "finetune_epochs must be an int >= 0"),
    ("too many pruning steps", lambda: pruning_study(Experiment(metric='loss', progress=False), steps=12), "one filter must remain"),
]

@pytest.mark.parametrize("what,call,words", BEFORE_TRAINING, ids=[c[0] for c in BEFORE_TRAINING])
def test_refused_before_any_training(what, call, words, fresh_cache):
    with pytest.raises(ValueError) as info: call()
    assert words in str(info.value), f"{what}: {info.value}"
    assert trained(fresh_cache) == [], f"{what}: a network was trained before the error"

def test_a_damaged_checkpoint_names_its_file_and_gives_sound_advice(tmp_path):
    path = tmp_path / 'run.npz'
    for damage in (b'', b'PK\x03\x04 truncated', b'\x80\x04pickled'):
        path.write_bytes(damage)
        with pytest.raises(ValueError) as info: permutation_shapley(sparse_game(8), 20, checkpoint=path, progress=False)
        message = str(info.value)
        assert str(path) in message and 'delete it' in message and 'allow_pickle' not in message, message

def test_a_checkpoint_of_another_run_says_what_differs_in_a_few_words(tmp_path):
    path = tmp_path / 'run.npz'
    permutation_shapley(sparse_game(320), 2, seed=0, checkpoint=path, progress=False)
    with pytest.raises(ValueError) as info: permutation_shapley(sparse_game(300), 2, seed=0, checkpoint=path, progress=False)
    message = str(info.value)
    assert 'written by another run' in message and 'players: saved' in message and '(320 items)' in message
    assert len(message) < 800, message

def test_a_truncated_result_file_is_named(tmp_path):
    path = exact_shapley(glove).save(tmp_path / 'values.json')
    path.write_text(path.read_text()[:40])
    with pytest.raises(ValueError, match='is not a result written by ShapleyValues.save') as info: ShapleyValues.load(path)
    assert str(path) in str(info.value)

def test_a_damaged_cached_model_is_trained_again(fresh_cache):
    splits = split_data(load_digits(), dict(train=100, valid=50))
    first = train_model('lenet1', splits['train'], splits['valid'], epochs=1, progress=False)
    (cached,) = (fresh_cache / 'models').glob('*.pt')
    cached.write_bytes(cached.read_bytes()[:100])  # a write cut short
    with pytest.warns(UserWarning, match='cannot be read .* trained again'):
        again = train_model('lenet1', splits['train'], splits['valid'], epochs=1, progress=False)
    assert torch.equal(again.state_dict()['conv2.weight'], first.state_dict()['conv2.weight'])  # the same seed, the same weights

def test_a_results_folder_that_is_a_file(tmp_path):
    (tmp_path / 'out').write_text('')
    with pytest.raises(ValueError, match='is a file, not a folder'): results_folder(tmp_path / 'out')

CLI_BEFORE_WORK = [  # the command line: one line, exit status 1... and no network trained first
    (['filters', '--device', 'tpu'], "Unknown device 'tpu'"),
    (['image-values', '--archs', 'lenet1', '--samples', '0'], "n_samples must be a positive int"),
    (['prune', '--finetune-epochs', '-1', '--out', ''], "finetune_epochs must be an int >= 0"),
    (['neurons', '--steps', '-1', '--out', ''], "steps must be an int >= 0"),
    (['neurons', '--k', '1000', '--out', ''], "between 1 and 320 (the number of filters)"),
    (['filters', '--metric', 'recall:12'], "asks for class 12, but the data has 10 classes"),
    (['filters', '--method', 'tmab', '--k', '13'], "between 1 and 12 (the number of filters)"),
    (['data-values', '--k', '0', '--out', ''], "k must be a positive int"),
] + ([(['filters', '--device', 'cuda'], "sees no CUDA GPU")] if NO_GPU else [])

@pytest.mark.parametrize("argv,words", CLI_BEFORE_WORK, ids=[' '.join(a) for a, _ in CLI_BEFORE_WORK])
def test_cli_refuses_before_any_work(argv, words, fresh_cache):
    with pytest.raises(SystemExit) as info: main([*argv, '--no-progress'])
    assert str(info.value).startswith('shapley-cnn: error: ') and words in str(info.value), info.value
    assert trained(fresh_cache) == []

@pytest.mark.parametrize("command", ['demo', 'filters', 'prune', 'neurons', 'image-values', 'layer-shap', 'data-values'])
def test_cli_checks_its_output_folder_first(command, tmp_path, fresh_cache):
    (tmp_path / 'taken').write_text('a file where the results would go')
    with pytest.raises(SystemExit) as info: main([command, '--out', str(tmp_path / 'taken'), '--no-progress'])
    assert 'is a file, not a folder' in str(info.value) and trained(fresh_cache) == []

def test_ctrl_c_exits_quietly_and_says_where_the_checkpoint_is(tmp_path):
    exe = Path(sys.executable).parent / 'shapley-cnn'
    checkpoint = tmp_path / 'neurons.npz'
    run = subprocess.Popen([str(exe), 'neurons', '--permutations', '100000', '--images', '8', '--round-size', '2',
                            '--checkpoint', str(checkpoint), '--out', '', '--no-progress'],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=os.environ | {'PYTHONFAULTHANDLER': '1'},  # SIGABRT prints where every thread is
                           # a job started with `&` by a shell without job control inherits SIGINT ignored, and Python
                           # then never turns it into KeyboardInterrupt: give the command the terminal's Ctrl-C
                           preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.time() + 300
    while not checkpoint.exists() and time.time() < deadline and run.poll() is None: time.sleep(0.5)
    run.send_signal(signal.SIGINT)
    try: out, err = run.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        run.send_signal(signal.SIGABRT)
        pytest.fail(f"still running 120 s after Ctrl-C (checkpoint written: {checkpoint.exists()}); "
                    f"where it was:\n{run.communicate(timeout=60)[1][-6000:]}")
    assert run.returncode == 130 and 'Traceback' not in err, err
    assert 'interrupted' in err and str(checkpoint) in err and 'resume' in err, err
