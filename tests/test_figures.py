"Every figure the package draws fits the page: no text out of the figure, no label longer than its axes, no title over another, no figure wider than the documentation's column."
import itertools
import matplotlib
matplotlib.use('Agg')
import matplotlib.pyplot as plt
import pandas as pd
import pytest, torch
from matplotlib.text import Text
from shapley_cnn.games import sparse_game
from shapley_cnn.shapley import exact_shapley, permutation_shapley
from shapley_cnn.data import load_digits, ImageData

COLUMN_INCHES, TALLEST_INCHES = 8.9, 14  # the site's column at 1440 px (896 px at 100 dpi); a screen and a half
LONG = "the first 1,000 images of the MNIST test set (t10k/), train split (7000 images, seed 0), 10% labels flipped"

def _labels(fig)->list[Text]:
    "The texts a layout must fit: titles, axis labels, legends and free text (tick labels are placed by the axes)."
    texts = [fig._suptitle, *fig.texts]
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label, *ax.texts]
        if ax.get_legend(): texts += ax.get_legend().get_texts()
    return [t for t in texts if t is not None and t.get_visible() and t.get_text().strip()]

def layout_problems(fig)->list[str]:
    "What does not fit in a figure, drawn as a page shows it."
    fig.canvas.draw(); renderer = fig.canvas.get_renderer(); box = fig.bbox
    problems = []
    for text in _labels(fig):
        b = text.get_window_extent(renderer)
        if b.x0 < box.x0 - 2 or b.x1 > box.x1 + 2 or b.y0 < box.y0 - 2 or b.y1 > box.y1 + 2:
            problems.append(f"{text.get_text()[:50]!r} runs out of the figure")
    for ax in fig.axes:
        label = ax.yaxis.label
        if label.get_text() and label.get_window_extent(renderer).height > 1.05 * ax.get_window_extent(renderer).height:
            problems.append(f"the y label {label.get_text()[:40]!r} is taller than its axes")
    titles = [t for t in [fig._suptitle, *(ax.title for ax in fig.axes)] if t is not None and t.get_text()]
    for a, b in itertools.combinations(titles, 2):
        if a.get_window_extent(renderer).overlaps(b.get_window_extent(renderer)):
            problems.append(f"the titles {a.get_text()[:30]!r} and {b.get_text()[:30]!r} overlap")
    width, height = fig.get_size_inches()
    if width > COLUMN_INCHES: problems.append(f"{width:.1f} inches wide: wider than the page's column")
    if height > TALLEST_INCHES: problems.append(f"{height:.1f} inches tall")
    return problems

def values_of(n, method='permutation'):
    game = sparse_game(n, n_large=min(5, n))
    return exact_shapley(game) if method == 'exact' else permutation_shapley(game, 4, seed=0, progress=False)

def shapley_plot(): return values_of(40).plot()
def images_row(): from shapley_cnn.data import show_images; return show_images(load_digits())
def comparison():
    from shapley_cnn.jobs import plot_comparison
    values = {m: values_of(12, m) for m in ('exact', 'permutation')}
    return plot_comparison(dict(values=values, seconds={m: 0.1 for m in values}, metric='accuracy', model='lenet1',
                                layers=['conv2'], data=LONG))
def sparsity():
    from shapley_cnn.neurons import plot_sparsity  # noqa: F401 (patched onto ShapleyValues)
    return values_of(320).plot_sparsity(title=f"digitcnn on {LONG}: 320 filters")
def neuron_removal():
    from shapley_cnn.neurons import plot_removal
    curves = {'Shapley (TMAB)': torch.linspace(1, 0.1, 31), 'random (mean of 3)': torch.linspace(1, 0.8, 31)}
    return plot_removal(curves, 0.1, f"accuracy on {LONG}", f"digitcnn on {LONG}: 320 filters")
def data_removal():
    from shapley_cnn.datavalue import plot_removal
    curves = pd.DataFrame({'knn, lowest first': [.9, .92, .93], 'random': [.9, .89, .88]}, index=[0, .1, .2])
    return plot_removal(curves, f"DigitCNN features, the first 1,000 images of {LONG}; test accuracy of the retrained head")
def lowest():
    from shapley_cnn.datavalue import plot_lowest
    fig = plot_lowest(values_of(100), load_digits().subset(range(100)), flipped=[0, 3])
    fig.suptitle("lowest knn values, digitcnn", fontsize=8)
    return fig
def disputed():
    from shapley_cnn.datavalue import plot_disputed
    return plot_disputed({'a': torch.rand(100), 'b': torch.rand(100)}, load_digits().subset(range(100)))
def block_maps():
    from shapley_cnn.layer_shap import plot_block_maps
    images = load_digits().images[:3]
    maps = {f"block{b}": torch.randn(3, 28 // 2**b + 1, 28 // 2**b + 1) for b in range(1, 6)}
    return plot_block_maps(images, maps, ['3, predicted 3', '8, predicted 3', '8, predicted 8'])
def feature_maps():
    from shapley_cnn.models import LeNet1
    from shapley_cnn.featuremaps import plot_feature_maps
    return plot_feature_maps(LeNet1().eval(), load_digits().subset(range(200)), 'conv2', torch.rand(12), k=2,
                             title=f"conv2 on {LONG}")
def pruning_and_explorer():
    from shapley_cnn.experiment import Experiment
    from shapley_cnn.pruning_jobs import pruning_study
    from shapley_cnn.pruning import plot_pruning
    from shapley_cnn.featuremaps import explorer_figure
    study = pruning_study(Experiment(metric='loss', progress=False), ['random', 'exact', 'hybrid'], trials=2, steps=3)
    run = study['runs']['Exact'][0]
    return [plot_pruning(study['runs']), explorer_figure(run, study['game'], 2, study['game'].data.images[0])]
def extremes():
    from shapley_cnn.explain import image_value_study, image_setups
    study = image_value_study(image_setups(('lenet1', 'digitcnn')), n_images=6, n_background=4, n_samples=4)
    return study.plot()

FIGURES = [shapley_plot, images_row, comparison, sparsity, neuron_removal, data_removal, lowest, disputed, block_maps,
           feature_maps, pruning_and_explorer, extremes]

@pytest.mark.parametrize('make', FIGURES, ids=[f.__name__ for f in FIGURES])
def test_the_figure_fits(make):
    made = make()
    for fig in made if isinstance(made, list) else [made]:
        assert layout_problems(fig) == []
        plt.close(fig)

def test_the_checker_finds_what_does_not_fit():
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 2))
    a.set_ylabel('a label far longer than the axes it belongs to can hold on its side'); a.set_title('left title ' * 6)
    b.set_title('right'); fig.suptitle('a title'); fig.text(0.99, 0.5, 'runs out to the right')
    problems = layout_problems(fig)
    assert any('wider than' in p for p in problems) and any('taller than its axes' in p for p in problems)
    assert any('runs out of the figure' in p for p in problems) and any('overlap' in p for p in problems), problems
