"Feature-layer SHAP (shapley_cnn.layer_shap): completeness, the channel game, clear errors."
import pytest, torch
from collections import OrderedDict
from torch import nn
from shapley_cnn.data import ImageData, keep_classes
from shapley_cnn.layer_shap import (layer_attributions, completeness, block_layers, block_maps, find_layer, last_conv,
                                    channel_comparison, rank_agreement, layer_shap_study)

def blocks_net():
    "Two named blocks and a head, like VGG19Classifier in small: 12x12 images, two classes."
    torch.manual_seed(0)
    block = lambda i, o: nn.Sequential(OrderedDict(conv1=nn.Conv2d(i, o, 3, padding=1), relu1=nn.ReLU(), pool=nn.MaxPool2d(2)))
    return nn.Sequential(OrderedDict(features=nn.Sequential(OrderedDict(block1=block(1, 4), block2=block(4, 6))),
                                     flatten=nn.Flatten(), logits=nn.Linear(6 * 3 * 3, 2))).eval()

@pytest.fixture(scope='module')
def images(): return torch.rand(5, 1, 12, 12, generator=torch.Generator().manual_seed(2))

def test_integrated_gradients_are_complete_at_every_block(images):
    net = blocks_net()
    table = completeness(net, images, block_layers(net), 'integrated_gradients', n_steps=256)
    assert list(table.index) == ['block1', 'block2']
    assert (table['relative'] < 0.01).all()  # summed over the layer: F(image) - F(black), within 1%

def test_gradient_x_activation_is_exact_for_a_linear_head(images):
    net = blocks_net()  # the logit is linear in block2's pooled maps, and max pooling picks maps' entries
    a = layer_attributions(net, images, ['features.block2'], 'gradient_x_activation', target=[0] * 5)['features.block2']
    with torch.no_grad(): logits = net(images)[:, 0] - net.logits.bias[0]
    assert torch.allclose(a.flatten(1).sum(1), logits, atol=1e-5)

def test_block_maps_sum_the_channels(images):
    net = blocks_net()
    a = layer_attributions(net, images, block_layers(net), 'integrated_gradients')
    maps = block_maps(a)
    assert maps['block1'].shape == (5, 12, 12) and torch.allclose(maps['block2'], a['block2'].sum(1))

def test_channel_shapley_values_add_up_and_follow_a_linear_game():
    net = blocks_net()
    image = torch.rand(1, 12, 12, generator=torch.Generator().manual_seed(3))
    channels = channel_comparison(net, image, 'block2', background=torch.rand(4, 1, 12, 12), n_permutations=20, n_samples=10)
    game, table = channels.game, channels.table
    ends = game.value(torch.stack([torch.ones(6), torch.zeros(6)]).bool())
    assert table.shapley.sum() == pytest.approx(float(ends[0] - ends[1]), abs=1e-4)
    # the logit is linear in block2's channels: each channel's Shapley value is its own contribution, which is
    # what gradient x activation (reference zero, as the game's) gives
    assert table.shapley.values == pytest.approx(table.gradient_x_activation.values, abs=1e-4)
    assert rank_agreement(channels, k=3).loc['gradient_x_activation', 'top 3 in common'] == 3  # (ties at 0 blur tau)
    assert rank_agreement(table, k=3).equals(rank_agreement(channels, k=3))

def test_bad_input_gets_a_clear_error(images):
    net = blocks_net()
    with pytest.raises(ValueError, match="No layer 'features.block7'"): layer_attributions(net, images, ['features.block7'])
    with pytest.raises(ValueError, match='Unknown method'): layer_attributions(net, images, ['features.block1'], 'lime')
    with pytest.raises(ValueError, match='Unknown block'): last_conv(net, 'block3')
    with pytest.raises(ValueError, match='no `features`'): block_layers(nn.Linear(2, 2))
    with pytest.raises(ValueError, match='one image'): channel_comparison(net, images[:2])
    with pytest.raises(ValueError, match='have no images'):
        keep_classes(ImageData(images, torch.tensor([0, 1, 0, 1, 0]), 'five'), (0, 2))
    with pytest.raises(ValueError, match='out of range'): layer_shap_study(image=[0, 999])

def test_superpixel_shapley_is_efficient_over_the_background():
    from shapley_cnn.explain import superpixel_shapley, per_superpixel, superpixel_mask
    net = nn.Sequential(nn.Conv2d(1, 3, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(75, 4)).eval()
    g = torch.Generator().manual_seed(4)
    data = ImageData(torch.rand(3, 1, 12, 12, generator=g), torch.zeros(3, dtype=torch.long), 'random')
    background, classes = torch.rand(4, 1, 12, 12, generator=g), torch.tensor([0, 2, 3])
    values = superpixel_shapley(net, data, background, classes, patch=6, n_samples=2, output='probability')
    with torch.no_grad():
        p, bp = net(data.images).softmax(1), net(background).softmax(1)
    assert values.shape == (3, 4)
    assert torch.allclose(values.sum(1), (p[range(3), classes] - bp[:, classes].mean(0)).double(), atol=1e-5)
    assert per_superpixel(torch.ones(1, 1, 12, 12), superpixel_mask(12, 12, 6)).tolist() == [[36.] * 4]
