"""Neuron Shapley engine benchmark on DigitCNN's 320 filters, measured in one run on this machine; prints a table.

    python benchmarks/bench_neurons.py [--walks 2] [--images 128] [--tmab] [--device cuda]

Data: the MNIST split where $SHAPLEY_CNN_MNIST (or ../shared/data/mnist) has the MNIST files, else the digits;
DigitCNN trained on the matching train split (cached after the first run).
1. Marginals per second over all 320 filters, the same walks on the same images (no truncation): the walk engine
   (FilterGame.walker: only the layers downstream of each step's filter are recomputed) against one full forward
   pass per coalition with hooks (FilterGame.naive_value); the marginals are checked equal.
2. With --tmab: TMAB's certified top 10 of all 320 filters (Neuron Shapley's truncation, --images per walk, relative
   epsilon 10%, delta 0.05 per filter) and plain Monte Carlo until the same sequences certify a top 10, side by side
   (one core each), each within --minutes (default 30): walks, marginals and seconds of each, and their ratios.
3. With --device cuda: the walk engine's throughput on the GPU against the CPU (same walks, same images; marginals
   checked equal), and the TMAB run of 2. on the GPU. Never needed for the tests.
"""
import argparse, multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
import torch
from common import timed, mnist_or_digits
from shapley_cnn.experiment import Experiment
from shapley_cnn.games import FunctionGame, extremes
from shapley_cnn.neurons import neuron_game, dead_network
from shapley_cnn.shapley import walk_permutations, random_permutations, tmab_shapley

def certify(game, adaptive:bool, minutes:float):
    "TMAB (adaptive) or plain Monte Carlo run until the same sequences certify a top 10, on one thread; its seconds."
    torch.set_num_threads(1)
    values, seconds = timed(lambda: tmab_shapley(game, 10, epsilon=0.1, relative=True, truncation=dead_network(game),
                                                 seed=0, progress=adaptive, max_permutations=10**7,
                                                 max_seconds=60 * minutes, adaptive=adaptive))
    values.params['seconds'] = seconds
    return values

def certify_both(game, minutes:float):
    "TMAB and Monte Carlo at the same time, one process and one core each, so that both see the same machine."
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context('spawn')) as pool:
        return list(pool.map(certify, (game, game), (True, False), (minutes, minutes)))

def ratios(t, m)->str:
    "Monte Carlo against TMAB: to the same certificate where both certified, else at TMAB's walks and per walk."
    tc, mc = t.certificate, m.certificate
    if t.certified and m.certified:
        return (f"Monte Carlo / TMAB to the same certificate: {mc['marginals'] / tc['marginals']:.1f}x marginals, "
                f"{m.params['seconds'] / t.params['seconds']:.1f}x seconds")
    if t.certified:
        return (f"Monte Carlo / TMAB: at least {mc['marginals'] / tc['marginals']:.1f}x marginals and "
                f"{m.params['seconds'] / t.params['seconds']:.1f}x seconds (Monte Carlo did not certify in its budget)")
    per_walk = lambda r: r.params['seconds'] / r.certificate['walks']
    drawn = tc['walks'] * len(m.values)  # Monte Carlo's marginals at TMAB's walks
    return (f"TMAB did not certify in its budget: at its {tc['walks']:,} walks Monte Carlo draws {drawn:,} "
            f"marginals, {drawn / tc['marginals']:.1f}x TMAB's; seconds per walk "
            f"{per_walk(m):.2f} against {per_walk(t):.2f}, {per_walk(m) / per_walk(t):.1f}x")

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--walks', type=int, default=2, help='permutation walks for the throughput ratio (default: %(default)s)')
    parser.add_argument('--images', type=int, default=128, help='images per walk (default: %(default)s)')
    parser.add_argument('--tmab', action='store_true', help='also time the certified TMAB top 10')
    parser.add_argument('--minutes', type=float, default=30, help="TMAB's time budget (default: %(default)s)")
    parser.add_argument('--data', default=mnist_or_digits(), help="'digits' or 'mnist' (default: %(default)s)")
    parser.add_argument('--device', default='cpu', help="also time the engine on this device, e.g. cuda (default: %(default)s)")
    args = parser.parse_args()
    setup = Experiment(args.data, 'digitcnn', progress=False)
    game = neuron_game(setup, images_per_walk=None).on(setup.splits['shapley'].subset(range(args.images)))
    naive = FunctionGame(game.naive_value, game.n_players, game.players, 'one full forward pass per coalition')
    perms = random_permutations(args.walks, game.n_players, torch.Generator().manual_seed(0))
    wanted, ends = torch.ones_like(perms, dtype=torch.bool), extremes(game)
    (fast, evals), t_fast = timed(lambda: walk_permutations(game, perms, wanted, ends))
    (slow, _), t_slow = timed(lambda: walk_permutations(naive, perms, wanted, ends))
    assert (fast - slow).abs().max() < 1e-6, "the engine's marginals differ from the full forward passes'"
    marginals = perms.numel()
    print(f"DigitCNN, {game.n_players} filters, {args.walks} walks on {args.images} images of {game.data.name}\n")
    print(f"{'':40} {'seconds':>9} {'marginals/s':>12}")
    print(f"{'walk engine':40} {t_fast:9.1f} {marginals / t_fast:12.1f}")
    print(f"{'one full forward pass per coalition':40} {t_slow:9.1f} {marginals / t_slow:12.1f}")
    print(f"ratio (target >= 5x): {t_slow / t_fast:.1f}x")
    if args.device != 'cpu':
        on_device = neuron_game(replace(setup, device=args.device), images_per_walk=None).on(game.data)
        walk_permutations(on_device, perms[:1], wanted[:1], ends)  # warm-up: kernels, allocator
        (far, _), t_far = timed(lambda: walk_permutations(on_device, perms, wanted, ends))
        same = ((far - fast).abs() < 1e-6).double().mean().item()  # an argmax tie may fall the other way on a GPU
        assert same > 0.99, f"the engine's marginals on {args.device} differ from the CPU's ({same:.1%} equal)"
        name = torch.cuda.get_device_name() if args.device.startswith('cuda') else args.device
        print(f"{'walk engine on ' + name:40} {t_far:9.1f} {marginals / t_far:12.1f}")
        print(f"{args.device} against the CPU: {t_fast / t_far:.1f}x "
              f"({marginals * args.images / t_far:,.0f} coalition-images per second; {same:.2%} of the marginals equal)")
    if args.tmab:
        tmab_game = neuron_game(replace(setup, device=args.device), images_per_walk=args.images)
        runs = dict(zip(('TMAB', 'Monte Carlo'), certify_both(tmab_game, args.minutes)))
        print(f"\ncertified top 10 of {tmab_game.n_players} filters on {tmab_game.data.name}, {args.images} images per walk "
              f"(relative epsilon 10%, delta 0.05 per filter, budget {args.minutes:g} min each)")
        for name, r in runs.items():
            c = r.certificate
            print(f"{name:12} {'certified' if c['certified'] else 'NOT certified'}: {r.params['seconds']:.0f} s, "
                  f"{c['walks']:,} walks, {c['marginals']:,} marginals, {len(c['undecided'])} undecided")
        t, m = runs['TMAB'], runs['Monte Carlo']
        print(ratios(t, m) + ' (targets: 8x, 3x; TMAB under 30 min)')

if __name__ == '__main__': main()
