"""Data Shapley (shapley_cnn.datavalue): KNN-Shapley and the samplers against exact values, the batched heads against heads
trained alone and scikit-learn, the KNN game, cached features, clear errors."""
import warnings
import pytest, torch
import numpy as np
from torch import nn
from shapley_cnn.data import ImageData
from shapley_cnn.shapley import exact_shapley, permutation_shapley
from shapley_cnn.datavalue import (KNNGame, knn_shapley, valuation_data, penultimate_features, last_linear,
                                   noisy_label_scores, DataGame, tmc_shapley, data_banzhaf, exact_banzhaf, leave_one_out,
                                   removal_curves)

def task(n, m=8, classes=3, dim=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    labels = torch.arange(n) % classes  # every class in the training set
    return (torch.randn(n, dim, generator=g), labels[torch.randperm(n, generator=g)],
            torch.randn(m, dim, generator=g), torch.randint(0, classes, (m,), generator=g))

@pytest.mark.parametrize('n,k', [(6, 1), (9, 2), (11, 3), (11, 4), (10, 10), (5, 8)])
def test_knn_shapley_equals_brute_force_exact_values(n, k):
    data = task(n, seed=n + k)
    assert torch.allclose(knn_shapley(*data, k=k).values, exact_shapley(KNNGame(*data, k=k)).values, atol=1e-12)

def test_knn_shapley_is_efficient_on_a_large_set():
    data = task(3000, m=200, classes=10, dim=16)
    values, game = knn_shapley(*data, k=7, chunk=64).values, KNNGame(*data, k=7)
    ends = game.value(torch.stack([torch.ones(3000), torch.zeros(3000)]).bool())
    assert abs(values.sum().item() - (ends[0] - ends[1]).item()) < 1e-9

def test_permutation_sampling_of_the_knn_game_agrees_with_the_closed_form():
    data = task(10, seed=3)
    exact = knn_shapley(*data, k=3)
    sampled = permutation_shapley(KNNGame(*data, k=3), 2000, antithetic=True, seed=0, progress=False)
    assert ((sampled.values - exact.values).abs() <= 4 * sampled.stderr + 1e-9).all()

def test_bad_input_gets_clear_errors():
    x, y, vx, vy = task(6)
    with pytest.raises(ValueError, match='6 feature vectors but train_labels'): knn_shapley(x, y[:5], vx, vy)
    with pytest.raises(ValueError, match='k must be an int >= 1'): knn_shapley(x, y, vx, vy, k=0)
    with pytest.raises(ValueError, match='NaN or infinite'): knn_shapley(x.clone().fill_(float('nan')), y, vx, vy)
    with pytest.raises(ValueError, match='NaN or infinite'): KNNGame(x, y, vx.clone().fill_(float('inf')), vy)
    with pytest.raises(ValueError, match='dimensions'): knn_shapley(x, y, vx[:, :3], vy)
    with pytest.raises(TypeError, match='integer class labels'): valuation_data(x, y.float(), vx, vy)

def test_a_validation_class_missing_from_training_warns_and_adds_nothing():
    x, y, vx, vy = task(8, classes=2)
    unseen = torch.cat([vy, torch.tensor([5])]), torch.cat([vx, torch.zeros(1, vx.shape[1])])
    with pytest.warns(UserWarning, match='classes no training image has'):
        values = knn_shapley(x, y, unseen[1], unseen[0], k=3).values
    # the unseen image scores 0 for every subset: the values are the others' values, times their share of images
    assert torch.allclose(values, knn_shapley(x, y, vx, vy, k=3).values * len(vy) / (len(vy) + 1), atol=1e-12)

def test_penultimate_features_are_the_classifier_input_and_leave_the_model_alone():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.Flatten(), nn.Linear(3 * 4 * 4, 7), nn.ReLU(), nn.Linear(7, 2)).train()
    data = ImageData(torch.rand(9, 1, 6, 6), torch.zeros(9, dtype=torch.long), 'random')
    features = penultimate_features(net, data, batch_size=4, cache=False)
    with torch.no_grad(): expected = net[:5].eval()(data.images)
    net.train()
    assert features.shape == (9, 7) and torch.allclose(features, expected) and net.training
    with pytest.raises(ValueError, match='no nn.Linear'): last_linear(nn.Conv2d(1, 1, 1))

def test_noisy_label_scores():
    scores = noisy_label_scores(torch.tensor([0.1, -1., 0.3, 0.2, -0.5, 0.4]), [1, 3])
    assert scores['precision'] == 0.5 and scores['recall'] == 0.5 and scores['auroc'] == 0.75

def test_features_are_cached_by_weights_and_images(tmp_path, monkeypatch):
    monkeypatch.setenv('SHAPLEY_CNN_CACHE', str(tmp_path))
    torch.manual_seed(0)
    net = nn.Sequential(nn.Flatten(), nn.Linear(36, 5), nn.ReLU(), nn.Linear(5, 2))
    data = ImageData(torch.rand(4, 1, 6, 6), torch.zeros(4, dtype=torch.long), 'random')
    first = penultimate_features(net, data)
    assert len(list((tmp_path / 'features').glob('*.pt'))) == 1
    assert torch.equal(penultimate_features(net, data), first)
    with torch.no_grad(): net[1].bias += 1  # other weights: other features, another file
    assert not torch.equal(penultimate_features(net, data), first)
    assert len(list((tmp_path / 'features').glob('*.pt'))) == 2

def gaussian_task(n, m=60, dim=6, classes=3, seed=0):
    g = torch.Generator().manual_seed(seed)
    centres = 2 * torch.randn(classes, dim, generator=g)
    labels = torch.arange(n + m) % classes
    x = centres[labels] + torch.randn(n + m, dim, generator=g)
    return x[:n], labels[:n], x[n:], labels[n:]

def test_batched_heads_equal_heads_trained_alone_and_scikit_learn():
    from sklearn.linear_model import LogisticRegression
    game = DataGame(*gaussian_task(60), dtype=torch.float64)
    coalitions = torch.rand(6, 60, generator=torch.Generator().manual_seed(1)) < 0.5
    together = game.value(coalitions)
    alone = torch.cat([game.value(c[None]) for c in coalitions])
    assert torch.equal(together, alone)
    x, vx = game.x[:, :-1].numpy(), game.valid_x[:, :-1].numpy()
    y, vy = game.y.argmax(1).numpy(), game.valid_labels.numpy()
    sklearn = [(LogisticRegression(tol=1e-8, max_iter=1000).fit(x[c], y[c]).predict(vx) == vy).mean() for c in coalitions.numpy()]
    assert torch.allclose(together, torch.tensor(sklearn, dtype=torch.float64))

def test_empty_and_one_class_coalitions_have_defined_values():
    x, y, vx, vy = gaussian_task(30)
    game = DataGame(x, y, vx, vy)
    one_class = (y == 1)[None]
    values = game.value(torch.cat([torch.zeros(1, 30, dtype=torch.bool), one_class]))
    assert values[0] == 1 / 3  # no image: a uniform guess
    assert values[1] == (vy == 1).double().mean()  # one class: always predicted
    with pytest.raises(ValueError, match='empty coalition'): game.train(torch.zeros(1, 30, dtype=torch.bool))

def test_tmc_and_banzhaf_agree_with_exact_values_of_a_data_game():
    x, y, vx, vy = gaussian_task(8, m=80, seed=2)
    y[0] = (y[0] + 1) % 3  # a flipped label
    game = DataGame(x, y, vx, vy, dtype=torch.float64)
    exact, tmc = exact_shapley(game), tmc_shapley(game, 400, tolerance=None, seed=0, progress=False)
    assert ((tmc.values - exact.values).abs() <= 4 * tmc.stderr + 1e-9).all()
    banzhaf, sampled = exact_banzhaf(game), data_banzhaf(game, 600, seed=0, progress=False)
    assert ((sampled.values - banzhaf.values).abs() <= 4 * sampled.stderr + 1e-9).all()
    assert exact.values.argmin() == 0 and abs(exact.values.sum() - (game.value(torch.ones(1, 8).bool()) - 1 / 3)) < 1e-12

def test_leave_one_out_and_removal_curves():
    game = DataGame(*gaussian_task(20))
    loo = leave_one_out(game, progress=False).values
    full = game.value(torch.ones(1, 20, dtype=torch.bool))[0]
    assert torch.allclose(loo[3], full - game.value(~torch.eye(20, dtype=torch.bool)[3:4])[0])
    curves = removal_curves(game, {'loo': loo}, (0, .5), trials=2)
    assert list(curves.columns) == ['loo, highest first', 'loo, lowest first', 'random'] and (curves.loc[0] == full.item()).all()

def test_data_game_bad_input():
    x, y, vx, vy = gaussian_task(10)
    with pytest.raises(ValueError, match='learner must be one of'): DataGame(x, y, vx, vy, learner='svm')
    with pytest.raises(ValueError, match='C must be positive'): DataGame(x, y, vx, vy, C=0)
    with pytest.raises(ValueError, match='10 feature vectors but train_labels'): DataGame(x, y[:9], vx, vy)

@pytest.mark.parametrize('classes,dtype', [(2, torch.float64), (2, torch.float32), (3, torch.float64), (3, torch.float32)])
def test_heads_equal_scikit_learn_on_every_subset(classes, dtype):
    "Every subset of a small task gets scikit-learn's head: with two classes its one binary vector, with more its multinomial."
    from sklearn.linear_model import LogisticRegression
    from shapley_cnn.games import coalitions_from_indices
    n = 9 if classes == 2 else 8
    x, y, vx, vy = gaussian_task(n, m=200, dim=3, classes=classes, seed=2)
    tol = 1e-6 if dtype == torch.float64 else 1e-4  # float32: below 1e-5 some heads stall until max_iter
    game = DataGame(x, y, vx, vy, dtype=dtype, tol=tol, max_iter=500)
    subsets = coalitions_from_indices(torch.arange(1, 2**n), n)
    weights, present = game.train(subsets)
    ours = game.value(subsets)
    xs, vxs, labels, valid = game.x[:, :-1].double().numpy(), game.valid_x[:, :-1].double().numpy(), y.numpy(), vy.numpy()
    differ, worst = 0, 0.0
    for c, w, p, value in zip(subsets.numpy(), weights.double().numpy(), present.numpy(), ours.tolist()):
        if len(set(labels[c])) == 1:
            assert value == (valid == labels[c][0]).mean(); continue
        model = LogisticRegression(C=1.0, tol=1e-10, max_iter=10_000).fit(xs[c], labels[c])
        w = w[:, p]  # the columns of the classes present
        ours_w = (w[:, 1] - w[:, 0])[:, None] if p.sum() == 2 else w  # sklearn's one binary vector, or its multinomial
        theirs_w = np.concatenate([model.coef_, model.intercept_[:, None]], 1).T
        worst = max(worst, abs(ours_w - theirs_w).max())
        predicted = np.flatnonzero(p)[(vxs @ w[:-1] + w[-1]).argmax(1)]
        assert abs(value - (predicted == valid).mean()) < 1e-9  # the game's value is these heads' accuracy
        # and their predictions are sklearn's, except where a validation point lies on its boundary (float32 rounds there)
        scores = model.decision_function(vxs)
        scores = np.sort(scores, 1) if scores.ndim == 2 else np.stack([np.zeros_like(scores), np.abs(scores)], 1)
        clear = scores[:, -1] - scores[:, -2] > 1e-3  # the gap between the two best classes
        differ += int((predicted[clear] != model.predict(vxs[clear])).any())
    bound = 1e-4 if dtype == torch.float64 else 1e-3
    assert worst < bound, f"weights differ from scikit-learn's by {worst:.2g}"
    assert differ == 0, f"{differ} of {len(subsets)} subsets differ from scikit-learn's LogisticRegression(C=1)"
