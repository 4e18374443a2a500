"Image values by SHAP (shapley_cnn.explain): efficiency where it is exact, seeded sampling, clear errors."
import pytest, torch
from torch import nn
from shapley_cnn.data import ImageData
from shapley_cnn.explain import image_values

def small_net(pool):
    torch.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 3), nn.Tanh(), pool, nn.Conv2d(4, 6, 3), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6, 3)).eval()

@pytest.fixture(scope='module')
def toy():
    g = torch.Generator().manual_seed(1)
    return ImageData(torch.rand(10, 1, 12, 12, generator=g), torch.randint(0, 3, (10,), generator=g), 'random images')

def test_deeplift_shap_values_are_the_logits_without_max_pooling(toy):
    run = image_values(small_net(nn.AvgPool2d(2)), toy, 'deeplift_shap', output='logit', n_background=6)
    assert run.gap.abs().max() < 1e-4  # efficiency: attributions summed plus the base value = the model's output

def test_gradient_shap_gap_shrinks_with_samples(toy):
    gaps = [image_values(small_net(nn.MaxPool2d(2)), toy, output='logit', n_samples=n).gap.abs().mean() for n in (2, 400)]
    assert gaps[1] < gaps[0] and gaps[1] < 0.05

def test_base_value_is_the_mean_output_over_the_background(toy):
    net = small_net(nn.AvgPool2d(2))
    run = image_values(net, toy, 'deeplift_shap', background=toy, n_background=10, output='probability')
    with torch.no_grad(): mean = net(toy.images).softmax(1).mean(0)
    assert torch.allclose(run.base, mean[run.classes].double(), atol=1e-6)

def test_bad_input_gets_a_clear_error(toy):
    net = small_net(nn.AvgPool2d(2))
    with pytest.raises(ValueError, match='Unknown method'): image_values(net, toy, 'lime')
    with pytest.raises(ValueError, match='output must be'): image_values(net, toy, output='odds')
    with pytest.raises(ValueError, match='outside'): image_values(net, toy, target=[7] * len(toy))
    with pytest.raises(ValueError, match='non-empty'): image_values(net, toy.subset([]))

def test_agreement_gives_tau_with_an_interval_that_contains_it():
    from shapley_cnn.explain import agreement
    g = torch.Generator().manual_seed(0)
    x = torch.rand(40, generator=g)
    pairs = agreement({'x': x, 'noisy x': x + 0.1 * torch.rand(40, generator=g), 'reversed': -x}, n_boot=200)
    assert (pairs.low <= pairs.tau).all() and (pairs.tau <= pairs.high).all()
    assert pairs.set_index(['a', 'b']).loc[('x', 'reversed'), 'tau'] == pytest.approx(-1)
    with pytest.raises(ValueError, match='different numbers'): agreement({'a': x, 'b': x[:5]})

def test_where_they_land_is_a_percentile_of_the_ranking():
    from shapley_cnn.explain import where_they_land
    assert where_they_land(torch.tensor([3., 1., 2., 5., 4.]), torch.tensor([1, 3])).tolist() == [0, 100]
    with pytest.raises(ValueError, match='at least two'): where_they_land(torch.tensor([1.]), torch.tensor([0]))

def test_deeplift_runs_on_torchvision_resnet_with_its_shared_inplace_relus():
    import torchvision.models as tvm
    from shapley_cnn.explain import deeplift_ready
    torch.manual_seed(0)
    net = tvm.resnet18(num_classes=3).eval()
    x = torch.rand(3, 3, 32, 32)
    ready = deeplift_ready(net)
    assert torch.allclose(ready(x), net(x), atol=1e-5)
    images = ImageData(x, torch.zeros(3, dtype=torch.long), 'random images')
    run = image_values(net, images, 'deeplift_shap', output='logit', n_background=2)
    assert torch.isfinite(run.values).all()

def test_study_bad_input_gets_a_clear_error():
    from shapley_cnn.explain import image_value_study, image_setups
    with pytest.raises(ValueError, match="Unknown model 'alexnet'"): image_setups(('alexnet',))
    with pytest.raises(ValueError, match='n_images must lie in'): image_value_study(image_setups(('lenet1',)), n_images=248)
    with pytest.raises(ValueError, match='Unknown method'): image_value_study(methods=('lime',))

def test_kept_attributions_add_up_to_the_values(toy):
    run = image_values(small_net(nn.AvgPool2d(2)), toy, 'deeplift_shap', output='logit', n_background=6,
                       keep_attributions=True)
    assert run.attributions.shape == toy.images.shape
    assert torch.allclose(run.attributions.flatten(1).sum(1).double() + run.base, run.values, atol=1e-5)
