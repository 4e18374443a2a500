"""Stratified positions (tmab_shapley's `strata`) on Neuron Shapley's game: do they cut the walks TMAB needs?

    python benchmarks/bench_strata.py [--walks 192] [--strata 4] [--images 32] [--data digits]

A sample of `strata` walks (a permutation and its rotations by n/strata positions) sees every filter once in each
stretch of positions, which removes the part of a marginal's variance that its position explains. Measured in one run:
1. --walks plain walks and --walks stratified walks (DigitCNN's 320 filters, Neuron Shapley's dead-network truncation,
   --images per walk): the variance per walk of the filters ranked 5 to 22 (those near the top-10 boundary), pooled.
2. The walks the betting confidence sequence (delta 0.05 per filter, marginals in [-1, 1], relative epsilon 10% of the
   10th value) needs to decide each of those filters, replayed on streams resampled from 1.'s walks (plain: one walk
   per sample; stratified: one block per sample), 3 replays each, checked every 250 samples.
"""
import argparse
import torch
from common import mnist_or_digits
from shapley_cnn.confidence import SampleHistory, sequence_interval
from shapley_cnn.experiment import Experiment
from shapley_cnn.games import extremes
from shapley_cnn.neurons import neuron_game, dead_network
from shapley_cnn.shapley import walk_permutations, rotated_permutations

def walked(game, perms):
    "Every filter's marginal `[P, n]` on each permutation, with the dead-network truncation."
    ends, rule = extremes(game), dead_network(game)
    return torch.cat([walk_permutations(game, p, torch.ones_like(p, dtype=torch.bool), ends, rule)[0]
                      for p in perms.split(16)])

def walks_to_decide(source, per_sample:int, mean, cutoff, epsilon:float, most:int, generator, replays=3):
    "Walks until each column's sequence clears `cutoff` by `epsilon`, on streams resampled from `source` (-1: never)."
    source = source - source.mean(0) + mean  # centred on the pooled estimate, the same target for both designs
    needed = []
    for _ in range(replays):
        x = source[torch.randint(len(source), (most,), generator=generator)].clamp(-1, 1)
        done = torch.full((x.shape[1],), -1)
        for t in range(250, most + 1, 250):
            history = SampleHistory(x.shape[1]); history.add(x[:t])
            lower, upper = sequence_interval(history, (-1, 1), 0.05, 'betting')
            done = torch.where((done < 0) & ((lower + epsilon >= cutoff) | (upper - epsilon <= cutoff)), t * per_sample, done)
            if (done >= 0).all(): break
        needed.append(done)
    return torch.stack(needed)

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--walks', type=int, default=192, help='walks of each design (default: %(default)s)')
    parser.add_argument('--strata', type=int, default=4, help='walks per stratified sample (default: %(default)s)')
    parser.add_argument('--images', type=int, default=32, help='images per walk (default: %(default)s)')
    parser.add_argument('--most', type=int, default=12_000, help='walks replayed at most (default: %(default)s)')
    parser.add_argument('--data', default=mnist_or_digits(), help="'digits' or 'mnist' (default: %(default)s)")
    args = parser.parse_args()
    setup = Experiment(args.data, 'digitcnn', progress=False)
    game, g = neuron_game(setup, images_per_walk=args.images), torch.Generator().manual_seed(0)
    n, s = game.n_players, args.strata
    plain = walked(game, rotated_permutations(args.walks, n, 1, g))
    blocks = walked(game, rotated_permutations(args.walks, n, s, g)).reshape(s, -1, n).mean(0)
    pooled = (plain.mean(0) + blocks.mean(0)) / 2
    ranked = pooled.sort(descending=True)
    near, tenth, eleventh = ranked.indices[4:22], ranked.values[9], ranked.values[10]
    variance = lambda x, per: x[:, near].var(0).sum().item() * per
    print(f"DigitCNN, {n} filters, {args.images} images per walk of {game.data.name}; {args.walks} walks of each design")
    print(f"variance per walk of the filters ranked 5-22: plain {variance(plain, 1):.4f}, strata={s} "
          f"{variance(blocks, s):.4f} ({variance(blocks, s) / variance(plain, 1):.2f}x)")
    cutoff = torch.where(pooled[near] >= tenth, eleventh, tenth)
    need = {name: walks_to_decide(x[:, near], per, pooled[near], cutoff, 0.1 * tenth.item(), args.most // per, g)
            for name, x, per in (('plain', plain, 1), (f'strata={s}', blocks, s))}
    print(f"\nwalks the betting sequence needs to decide each filter (3 replays; -1: not within {args.most:,})")
    print(f"{'rank':>4} {'value':>8} " + ' '.join(f"{name:>22}" for name in need))
    for j in range(len(near)):
        print(f"{j + 5:4} {pooled[near[j]].item():8.4f} " +
              ' '.join(f"{str(x[:, j].tolist()):>22}" for x in need.values()))
    hardest = {name: torch.where((x < 0).any(1), -1, x.max(1).values) for name, x in need.items()}
    print("\nwalks to decide all of them, per replay: " + '; '.join(f"{name} {x.tolist()}" for name, x in hardest.items()))

if __name__ == '__main__': main()
