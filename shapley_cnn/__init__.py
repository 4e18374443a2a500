"""Shapley values for convolutional neural networks: which filters, and which training images, matter.

The main names of every module are here too (`from shapley_cnn import exact_shapley, FilterGame, Experiment`); each
loads its module on first use, so that `import shapley_cnn` stays quick."""

__version__ = "0.1.0"

_MAIN = {  # module -> the names `from shapley_cnn import ...` offers
    'games': ['Game', 'FunctionGame', 'TabularGame', 'AdditiveGame', 'UnanimityGame', 'GloveGame', 'AirportGame',
              'WeightedVotingGame', 'sparse_game'],
    'sampling': ['Truncation', 'data_truncation', 'neuron_truncation'],
    'shapley': ['ShapleyValues', 'exact_shapley', 'permutation_shapley', 'tmab_shapley', 'estimate'],
    'axioms': ['check_efficiency', 'check_symmetry', 'check_null_player', 'check_additivity'],
    'data': ['ImageData', 'load_digits', 'load_mnist', 'load_splits', 'mnist_available'],
    'models': ['LeNet1', 'DigitCNN', 'train_model', 'evaluate_model'],
    'filters': ['FilterGame'],
    'experiment': ['Experiment'],
    'jobs': ['filter_shapley', 'results_table'],
    'pruning_jobs': ['pruning_study'],
    'neurons': ['neuron_game', 'neuron_shapley', 'neuron_study'],
    'explain': ['image_values', 'image_value_study'],
    'layer_shap': ['layer_shap_study'],
    'datavalue': ['knn_shapley', 'penultimate_features', 'DataGame', 'tmc_shapley', 'data_banzhaf', 'leave_one_out',
                  'data_value_study'],
}
_MODULE_OF = {name: module for module, names in _MAIN.items() for name in names}
__all__ = list(_MODULE_OF)

def __getattr__(name):
    "A main name, from its module (imported now, the first time)."
    if name not in _MODULE_OF: raise AttributeError(f"module 'shapley_cnn' has no attribute {name!r}")
    import importlib
    value = getattr(importlib.import_module(f"shapley_cnn.{_MODULE_OF[name]}"), name)
    globals()[name] = value
    return value

def __dir__(): return sorted([*globals(), *__all__])
