"""Filter-game benchmarks on LeNet-1's 12 conv2 filters, measured in one run on this machine; prints a table.

    python benchmarks/bench_filters.py [--images 1000] [--permutations 50]

Data: the MNIST Shapley split (1,000 of MNIST's test images) where $SHAPLEY_CNN_MNIST (or ../shared/data/mnist) has
the MNIST files, else the digits. LeNet-1 is trained on the matching train split (cached after the first run).
1. exact_shapley on FilterGame (all 4,096 coalitions, prefix cached, batched) against the naive way: one full forward
   pass per coalition, nothing cached (FilterGame.naive_value), over the same 4,096 coalitions;
2. permutation_shapley against captum's ShapleyValueSampling with the same number of permutations, captum's forward
   function gating conv2's channels with a hook (one coalition per forward pass, captum's default).
"""
import argparse
import torch
from common import timed, mnist_or_digits
from shapley_cnn.experiment import Experiment
from shapley_cnn.filters import gate_forward
from shapley_cnn.games import coalitions_from_indices
from shapley_cnn.shapley import exact_shapley, permutation_shapley

def captum_sampling(model, data, n_permutations, seed):
    "captum's ShapleyValueSampling over a gate per conv2 channel, metric accuracy."
    from captum.attr import ShapleyValueSampling
    gates = torch.ones(1, 12)
    torch.manual_seed(seed)
    forward = gate_forward(model, data, 'conv2')
    return ShapleyValueSampling(forward).attribute(gates, baselines=torch.zeros_like(gates), n_samples=n_permutations).flatten()

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--images', type=int, default=1000, help='images in the Shapley set (default: %(default)s)')
    parser.add_argument('--permutations', type=int, default=50, help='permutations for the sampling comparison (default: %(default)s)')
    args = parser.parse_args()
    setup = Experiment(mnist_or_digits(), progress=False)
    shapley_set = setup.splits['shapley'].subset(range(min(args.images, len(setup.splits['shapley']))))
    game = setup.game().on(shapley_set)

    exact, t_exact = timed(lambda: exact_shapley(game))
    everything = coalitions_from_indices(torch.arange(2 ** 12), 12)
    naive_values, t_naive = timed(lambda: game.naive_value(everything))
    assert torch.allclose(game.value(everything), naive_values, atol=1e-9), "fast and naive values differ"

    ours, t_ours = timed(lambda: permutation_shapley(game, args.permutations, seed=0, progress=False))
    theirs, t_captum = timed(lambda: captum_sampling(game.model, shapley_set, args.permutations, seed=0))
    assert abs(ours.values.sum() - theirs.double().sum()) < 1e-6, "both must add up to v(N) - v(empty)"

    rows = [(f"exact, 12 filters, {len(shapley_set)} images: FilterGame (batched, prefix cached)", f"{t_exact:.3f} s", "target <= 2 s"),
            ("  naive: one full forward pass per coalition, 4,096 passes", f"{t_naive:.1f} s", f"naive / ours = {t_naive / t_exact:.0f}x (target >= 20x)"),
            (f"permutation sampling, {args.permutations} permutations: permutation_shapley", f"{t_ours:.3f} s", f"{ours.n_evals:,} coalitions"),
            ("  captum ShapleyValueSampling, same permutations", f"{t_captum:.1f} s", f"captum / ours = {t_captum / t_ours:.0f}x (target >= 10x)")]
    width = max(len(r[0]) for r in rows)
    print(f"LeNet-1 conv2 filter game on {shapley_set.name}; {torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print(f"| {'what':<{width}} | {'measured':>10} | note |\n|{'-' * (width + 2)}|{'-' * 12}|------|")
    for what, measured, note in rows: print(f"| {what:<{width}} | {measured:>10} | {note} |")

if __name__ == '__main__': main()
