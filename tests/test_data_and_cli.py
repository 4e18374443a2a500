"Data loading (digits, MNIST from local IDX files), filter-game bad input, and the shapley-cnn command line."
import gzip, os, shutil, subprocess, sys
from pathlib import Path
import pytest, torch
from shapley_cnn.data import load_digits, load_mnist, split_data, MNIST_SPLIT
from shapley_cnn.models import LeNet1
from shapley_cnn.filters import FilterGame

MNIST = Path(os.environ['SHAPLEY_CNN_MNIST']) if os.environ.get('SHAPLEY_CNN_MNIST') else None
needs_mnist = pytest.mark.skipif(MNIST is None, reason="$SHAPLEY_CNN_MNIST names no folder with the MNIST test files")

def test_digits_load_at_28x28():
    digits = load_digits()
    assert len(digits) == 1797 and digits.images.shape[1:] == (1, 28, 28) and digits.n_classes == 10

@needs_mnist
def test_mnist_test_set_loads_from_a_folder_with_only_the_test_files():
    sets = load_mnist(MNIST)
    assert set(sets) == {'test'} and len(sets['test']) == 10_000 and sets['test'].images.shape[1:] == (1, 28, 28)
    assert {k: len(v) for k, v in split_data(sets['test'], MNIST_SPLIT).items()} == MNIST_SPLIT

@needs_mnist
def test_mnist_folder_from_the_environment_and_uncompressed_files(tmp_path, monkeypatch):
    raw = tmp_path / 'MNIST' / 'raw'; raw.mkdir(parents=True)
    for f in MNIST.glob('*.gz'): (raw / f.name[:-3]).write_bytes(gzip.decompress(f.read_bytes()))
    monkeypatch.setenv('SHAPLEY_CNN_MNIST', str(tmp_path))
    assert torch.equal(load_mnist()['test'].labels, load_mnist(MNIST)['test'].labels)

@needs_mnist
def test_a_damaged_mnist_file_is_refused(tmp_path):
    for f in MNIST.glob('*.gz'): shutil.copy(f, tmp_path / f.name)
    (tmp_path / 't10k-labels-idx1-ubyte.gz').write_bytes(gzip.compress(b'not mnist'))
    with pytest.raises(ValueError, match='md5'): load_mnist(tmp_path)

def test_no_mnist_files_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match='No MNIST files found'): load_mnist(tmp_path)
    monkeypatch.delenv('SHAPLEY_CNN_MNIST', raising=False)
    with pytest.raises(ValueError, match='No MNIST folder given'): load_mnist()

@needs_mnist
def test_mnist_root_argument_wins_over_the_environment(tmp_path, monkeypatch):
    "The precedence --help states: the folder passed in, then $SHAPLEY_CNN_MNIST, then a download."
    monkeypatch.setenv('SHAPLEY_CNN_MNIST', str(tmp_path))  # an empty folder
    assert len(load_mnist(MNIST)['test']) == 10_000
    with pytest.raises(ValueError, match='No MNIST files found'): load_mnist()

@pytest.mark.parametrize("kwargs,words", [
    (dict(layers='conv9'), "No layer named 'conv9'"),
    (dict(layers='fc'), 'not a Conv2d'),
    (dict(layers='conv2', metric='f1'), 'Unknown metric'),
    (dict(layers='conv2', baseline='noise'), "'zero' or 'mean'"),
    (dict(layers='conv2', baseline='mean'), "needs reference="),
])
def test_filter_game_bad_input(kwargs, words):
    with pytest.raises(ValueError, match=words): FilterGame(LeNet1(), load_digits().subset(range(20)), **kwargs)

def test_filter_game_refuses_empty_data():
    with pytest.raises(ValueError, match='empty'): FilterGame(LeNet1(), load_digits().subset([]), 'conv2')

def cli(*args, cwd=None, env=None):
    exe = Path(sys.executable).parent / 'shapley-cnn'
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=600, cwd=cwd, env=env)

def test_cli_help_reads_well():
    result = cli('--help')
    assert result.returncode == 0 and 'demo' in result.stdout and 'filters' in result.stdout
    assert '--method' in cli('filters', '--help').stdout

def test_cli_demo_writes_table_figures_and_json(tmp_path):
    result = cli('demo', '--out', str(tmp_path / 'out'), '--no-progress')
    assert result.returncode == 0, result.stderr
    assert 'conv2[' in result.stdout and 'exact' in result.stdout and 'tmab' in result.stdout
    assert {p.name for p in (tmp_path / 'out').iterdir()} == {'comparison.png', 'exact.json', 'permutation.json', 'results.json', 'tmab.json'}

def test_cli_reports_bad_input_without_a_traceback():
    result = cli('filters', '--layers', 'fc', '--no-progress')
    assert result.returncode != 0 and 'not a Conv2d' in result.stderr and 'Traceback' not in result.stderr

OWN_NETWORK = """
import torch
import torch.nn.functional as F
from torch import nn

class Small(nn.Module):
    "A network the package has never seen: activations called as functions, a flatten by `x.size(0)`."
    def __init__(self):
        super().__init__()
        self.conv1, self.conv2, self.head = nn.Conv2d(1, 4, 3, padding=1), nn.Conv2d(4, 6, 3, padding=1), nn.Linear(294, 10)
    def forward(self, x):
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(torch.relu(self.conv2(x)), 2)
        return self.head(x.view(x.size(0), -1))
"""

def test_cli_takes_your_network_and_your_image_folder(tmp_path):
    "A class of one's own (--arch module:Class), its state dict (--model FILE) and a folder of PNGs, through six commands."
    from shapley_cnn.data import load_splits, save_image_folder
    (tmp_path / 'mynets.py').write_text(OWN_NETWORK)
    namespace = {}; exec(OWN_NETWORK, namespace)
    torch.manual_seed(0); torch.save(namespace['Small']().state_dict(), tmp_path / 'small.pt')  # the way in, not the values
    save_image_folder(load_splits('digits')['test'], tmp_path / 'images')
    env = dict(os.environ, PYTHONPATH=str(tmp_path), SHAPLEY_CNN_CACHE=str(tmp_path / 'cache'))
    own = ['--data', f"folder:{tmp_path / 'images'}", '--model', str(tmp_path / 'small.pt'), '--arch', 'mynets:Small',
           '--no-progress']
    result = cli('filters', *own, '--layers', 'conv1', '--method', 'exact', env=env)
    assert result.returncode == 0, result.stderr
    assert 'Small (small.pt) on image folder images/' in result.stdout and 'conv1[3]' in result.stdout
    result = cli('prune', *own, '--layers', 'conv1', '--criterion', 'l1', 'exact', '--steps', '2', '--out', '', env=env)
    assert result.returncode == 0 and 'L1 norm' in result.stdout and 'Exact' in result.stdout, result.stderr
    result = cli('neurons', *own, '--permutations', '4', '--k', '2', '--steps', '3', '--out', '', env=env)
    assert result.returncode == 0 and 'all 10 filters of its 2 conv layers' in result.stdout, result.stderr
    result = cli('image-values', *own, '--images', '4', '--method', 'deeplift_shap', '--out', str(tmp_path / 'iv'), env=env)
    assert result.returncode == 0 and 'Small (small.pt), deeplift_shap' in result.stdout, result.stderr
    result = cli('layer-shap', *own, '--maps', 'conv1', 'conv2', '--samples', '4', '--out', str(tmp_path / 'ls'), env=env)
    assert result.returncode == 0 and 'Small (small.pt), test accuracy' in result.stdout and 'conv2 ' in result.stdout, result.stderr
    result = cli('data-values', *own, '--images', '60', '--method', 'knn', '--out', '', env=env)
    assert result.returncode == 0 and 'Small (small.pt)' in result.stdout, result.stderr
    assert not (tmp_path / 'cache' / 'models').exists()  # nothing was trained: the network is the user's
    result = cli('filters', *own[:-3], '--arch', 'mynets:Missing', env=env)
    assert result.returncode != 0 and "has no attribute 'Missing'" in result.stderr and 'Traceback' not in result.stderr

def test_cli_prune_help_and_bad_input():
    assert '--criterion' in cli('prune', '--help').stdout
    result = cli('prune', '--criterion', 'magnitude')
    assert result.returncode != 0 and 'invalid choice' in result.stderr

def test_offline_mnist_download_is_a_clear_error(tmp_path, monkeypatch):
    "Without local files and without internet, MNIST fails with a message that says what to pass, not a traceback."
    import torchvision.datasets
    from shapley_cnn.cli import main
    def offline(*args, **kwargs): raise RuntimeError("Error downloading train-images-idx3-ubyte.gz:\nTried https://...")
    monkeypatch.setattr(torchvision.datasets, 'MNIST', offline)
    monkeypatch.delenv('SHAPLEY_CNN_MNIST', raising=False)
    monkeypatch.setenv('SHAPLEY_CNN_CACHE', str(tmp_path / 'cache'))
    with pytest.raises(SystemExit) as info: main(['prune', '--data', 'mnist', '--out', '', '--no-progress'])
    assert 'MNIST could not be downloaded' in str(info.value) and '--mnist-root' in str(info.value)

def test_a_run_logged_to_a_file_prints_lines_not_bar_frames(tmp_path):
    "Written to a file (not a terminal), progress is a line per stage: which network trains, and how far the work is."
    import os
    env = dict(os.environ, SHAPLEY_CNN_CACHE=str(tmp_path / 'cache'))  # nothing cached: LeNet-1 trains first
    result = subprocess.run([str(Path(sys.executable).parent / 'shapley-cnn'), 'filters', '--method', 'exact', 'permutation',
                             '--permutations', '40', '--out', ''], capture_output=True, text=True, timeout=600, env=env)
    assert result.returncode == 0, result.stderr
    log = result.stdout + result.stderr
    assert 'training lenet1 on scikit-learn digits at 28x28, train split' in log and 'trained lenet1:' in log
    assert '\r' not in log and '█' not in log, 'no progress-bar frames in a log'
    assert 'exact Shapley: coalition batches: 1/1 steps' in log and 'Monte Carlo: rounds: ' in log
    assert len(log) < 8000, f"{len(log)} characters of log"

@pytest.mark.parametrize('error, shown', [(ValueError('bad input'), True), (ConnectionError('no cluster'), True),
                                          (TypeError('a bug'), False), (ImportError('a bug'), False)])
def test_the_cli_reports_usage_errors_in_a_line_and_lets_bugs_through(monkeypatch, error, shown):
    import functools
    from shapley_cnn import cli
    @functools.wraps(cli.COMMANDS['demo'])  # the same options
    def failing(**kwargs): raise error
    monkeypatch.setitem(cli.COMMANDS, 'demo', failing)
    if shown:
        with pytest.raises(SystemExit, match=f"shapley-cnn: error: {error}"): cli.main(['demo', '--out', ''])
    else:  # a bug keeps its traceback
        with pytest.raises(type(error), match='a bug'): cli.main(['demo', '--out', ''])
