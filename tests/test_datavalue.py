"Data Shapley (shapley_cnn.datavalue): KNN-Shapley against exact values, the KNN game, features, clear errors."
import warnings
import pytest, torch
from torch import nn
from shapley_cnn.data import ImageData
from shapley_cnn.shapley import exact_shapley, permutation_shapley
from shapley_cnn.datavalue import (KNNGame, knn_shapley, valuation_data, penultimate_features, last_linear,
                                   noisy_label_scores)

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
    features = penultimate_features(net, data, batch_size=4)
    with torch.no_grad(): expected = net[:5].eval()(data.images)
    net.train()
    assert features.shape == (9, 7) and torch.allclose(features, expected) and net.training
    with pytest.raises(ValueError, match='no nn.Linear'): last_linear(nn.Conv2d(1, 1, 1))

def test_noisy_label_scores():
    scores = noisy_label_scores(torch.tensor([0.1, -1., 0.3, 0.2, -0.5, 0.4]), [1, 3])
    assert scores['precision'] == 0.5 and scores['recall'] == 0.5 and scores['auroc'] == 0.75
