"""Shapley values for convolutional neural networks: which filters, and which training images, matter

Modules:

- `shapley_cnn.datavalue`: The value of each *training* image: how much it adds to a learner's validation accuracy, averaged over every subset of the other training images it could join.
- `shapley_cnn.distributed`: Every sampling estimator (`permutation_shapley`, `tmab_shapley`, `neuron_shapley`, `tmc_shapley`, `data_banzhaf`) runs its walks on Ray workers with `workers=`: the same seed gives the same values, whatever the number of workers.
- `shapley_cnn.explain`: The value of a test image as Shobeiri and Aajami define it (its pixels' SHAP values summed, plus the base value), computed with captum's GradientShap and DeepLiftShap, and what that number is.
- `shapley_cnn.layer_shap`: Attributions of every feature map of a VGG19-based two-class classifier, block by block, with captum's layer methods; their completeness checked; and one block's channels ranked by gradients beside their Shapley values.
- `shapley_cnn.neurons`: Every filter of a CNN valued at once by the truncated multi-armed bandit, the critical few found, and the network tested without them.
- `shapley_cnn.repair`: Neuron Shapley on MNIST, and the filters behind a planted bias or an adversarial attack found by their values and removed.
- `shapley_cnn.walks`: Forward passes along a permutation walk, each step recomputing only the part of the network that the filter it switches can change; for any CNN torch.fx can trace, residual connections and batch norm included."""

__version__ = "0.1.0"
