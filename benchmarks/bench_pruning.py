"""Shapley filter pruning of LeNet-1's 12 conv2 filters (Munovas's study), measured in one run on this machine.

    python benchmarks/bench_pruning.py [--trials 3] [--slow-way-filters 6] [--finetune-epochs 0] [--quick]

Data: the MNIST splits (MNIST's 10,000 test images: train 7,000 / valid 1,000 / Shapley set 1,000 / test 1,000) where
$SHAPLEY_CNN_MNIST (or ../shared/data/mnist) has the MNIST files, else the digits. LeNet-1 is trained on the train split (cached).
1. every criterion (random, Monte Carlo 100, the thesis's hybrid schedule, exact at every step, TMAB, L1 norm, Taylor,
   leave-one-out), `--trials` runs of the randomised ones: AUC of test accuracy and loss (the thesis's normalisation,
   beside its Table 3.1), coalitions evaluated and seconds per run;
2. one exact step on `--slow-way-filters` filters the thesis's way (all n! orders, one full forward pass per
   coalition) against `exact_shapley` on the same filters (both must agree);
3. parameters, MACs and CPU latency of LeNet-1 before and after Torch-Pruning removes the first half of the filters
   exact pruning chose (the pruned network must give the masked network's logits).
`--quick` runs a smaller version: 1 trial, the thesis's way on 4 filters.
"""
import argparse, math
import torch
from common import timed, mnist_or_digits
import pandas as pd
from shapley_cnn.games import SubGame
from shapley_cnn.shapley import exact_shapley
from shapley_cnn.experiment import Experiment
from shapley_cnn.criteria import CRITERIA, as_criterion, exact_by_orders, masked_logits
from shapley_cnn.pruning import auc_table
from shapley_cnn.removal import remove_filters, size_table
from shapley_cnn.pruning_jobs import pruning_study

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--trials', type=int, default=3, help='runs of each randomised criterion (default: %(default)s)')
    parser.add_argument('--slow-way-filters', type=int, default=6, help="filters in the exact step timed the thesis's way (default: %(default)s)")
    parser.add_argument('--finetune-epochs', type=int, default=0, help='epochs of fine-tuning after each removal (default: %(default)s)')
    parser.add_argument('--quick', action='store_true', help="1 trial, the thesis's way on 4 filters")
    args = parser.parse_args()
    trials, slow_filters = (1, 4) if args.quick else (args.trials, args.slow_way_filters)
    pd.set_option('display.max_columns', 20, 'display.width', 250)
    setup = Experiment(mnist_or_digits(), metric='loss', progress=False)
    criteria = [as_criterion(name) for name in CRITERIA]
    study, seconds = timed(lambda: pruning_study(setup, criteria, trials, finetune_epochs=args.finetune_epochs))
    game, test = study['game'], study['splits']['test']
    print(f"LeNet-1 conv2 pruning; scores on {game.data.name}; accuracy and loss on {test.name}; "
          f"fine-tuning: {args.finetune_epochs} epochs per step; {torch.get_num_threads()} threads, torch {torch.__version__}\n")
    print(auc_table(study['runs']).round(4).to_string(), f"\n\n(whole study, training or loading included: {seconds:.1f} s)\n")

    sub = SubGame(game, torch.arange(slow_filters))
    slow_way, t_slow = timed(lambda: exact_by_orders(sub))
    ours, t_ours = timed(lambda: exact_shapley(sub))
    assert torch.allclose(slow_way, ours.values, atol=1e-5), "the thesis's way and exact_shapley differ"
    n = slow_filters
    print(f"exact step on {n} filters: the thesis's way {t_slow:.2f} s ({n * math.factorial(n) + 1:,} forward passes); "
          f"exact_shapley {t_ours:.4f} s ({ours.n_evals} coalitions, batched): {t_slow / t_ours:,.0f}x\n")

    exact_run = study['runs']['Exact'][0]
    alive = torch.ones(game.n_players, dtype=torch.bool); alive[exact_run.removed[:game.n_players // 2]] = False
    pruned = remove_filters(game, alive)
    with torch.no_grad(): gap = (pruned(test.images) - masked_logits(game, alive, test.images)).abs().max().item()
    print(f"Torch-Pruning, {game.n_players // 2} filters removed by exact pruning; max |pruned - masked| logit on the test images: {gap:.2e}")
    print(size_table({'LeNet-1': study['model'], 'pruned': pruned}, test.images).round(3).to_string())

if __name__ == '__main__': main()
