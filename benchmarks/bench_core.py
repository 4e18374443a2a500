"""Benchmarks of the game-theory core, measured in one run on this machine; prints a table.

    python benchmarks/bench_core.py [--quick]

1. exact_shapley on games of 16 and 20 players (all 2**n coalitions, batched);
2. sampled marginals per second when permutation_shapley hands the game batches of coalitions, against one
   coalition per call (batch_size=1), on the same game with the same permutations;
3. on a game with a few large and many small players, the coalition evaluations tmab_shapley needs to separate
   the top k, against plain permutation sampling run until the same confidence bounds (the bound R the game
   declares) separate its top k (Neuron Shapley's comparison; it reports about 10x), and until its top k merely
   happens to be right (an oracle stop, which needs the true answer to know when to stop).
"""
import argparse, statistics, tempfile
from pathlib import Path
import torch
from common import timed
from shapley_cnn.games import sparse_game
from shapley_cnn.shapley import exact_shapley, permutation_shapley, tmab_shapley

def exact_rows():
    rows = []
    for n in (16, 20):
        game = sparse_game(n, n_large=4)
        values, seconds = timed(lambda: exact_shapley(game))
        assert torch.allclose(values.values, game.shapley_values(), atol=1e-9)
        rows.append((f"exact_shapley, sparse_game({n}): 2**{n} = {2**n:,} coalitions", f"{seconds:.3f} s", "max error vs closed form < 1e-9"))
    return rows

def batching_rows(n_permutations):
    game = sparse_game(20, n_large=4)
    batched, t_batched = timed(lambda: permutation_shapley(game, n_permutations, seed=0, progress=False))
    single, t_single = timed(lambda: permutation_shapley(game, n_permutations, seed=0, progress=False, batch_size=1))
    assert torch.allclose(batched.values, single.values, atol=1e-12)
    rate = lambda seconds: n_permutations * game.n_players / seconds
    return [(f"permutation_shapley, sparse_game(20), {n_permutations} permutations, batched", f"{rate(t_batched):,.0f} marginals/s", ""),
            ("  same permutations, one coalition per call (batch_size=1)", f"{rate(t_single):,.0f} marginals/s",
             f"batched / one-at-a-time = {t_single / t_batched:.0f}x")]

def mc_until(game, seed, done, budgets, checkpoint):
    "Evaluations of plain sampling (extended budget by budget from a checkpoint) when `done(estimate)` first holds."
    for T in budgets:
        estimate = permutation_shapley(game, T, seed=seed, progress=False, checkpoint=checkpoint)
        if done(estimate): return estimate.n_evals
    raise RuntimeError(f"plain sampling did not get there in {budgets[-1]} permutations")

def tmab_rows(n_players, n_large, k, seeds):
    game = sparse_game(n_players, n_large=n_large, seed=1)
    truth = set(game.shapley_values().topk(k).indices.tolist())
    budgets = [int(10 * 1.2 ** i) for i in range(60)]
    tmab_evals, certain_evals, oracle_evals, tmab_right = [], [], [], 0
    with tempfile.TemporaryDirectory() as folder:
        for seed in seeds:
            tmab = tmab_shapley(game, k=k, seed=seed, progress=False, max_permutations=50_000)
            tmab_right += set(tmab.top(k).index) == truth
            tmab_evals.append(tmab.n_evals)
            plain = tmab_shapley(game, k=k, seed=seed, progress=False, max_permutations=50_000, adaptive=False)
            certain_evals.append(plain.n_evals)  # every player in every walk, until the same sequences certify
            oracle_evals.append(mc_until(game, seed, lambda e: set(e.top(k).index) == truth, budgets, Path(folder) / f"oracle{seed}.npz"))
    t, c, o = (statistics.mean(x) for x in (tmab_evals, certain_evals, oracle_evals))
    return [(f"tmab_shapley, sparse_game({n_players}, n_large={n_large}), top {k}, {len(seeds)} seeds", f"{t:,.0f} evaluations",
             f"top {k} right in {tmab_right}/{len(seeds)} runs"),
            ("  plain sampling until the same sequences certify the top k", f"{c:,.0f} evaluations", f"plain / TMAB = {c / t:.1f}x"),
            ("  plain sampling until its top k happens to be right (oracle stop)", f"{o:,.0f} evaluations", f"plain / TMAB = {o / t:.1f}x")]

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--quick', action='store_true', help='smaller budgets, for a smoke test')
    args = parser.parse_args()
    torch.set_num_threads(max(1, torch.get_num_threads()))
    rows = exact_rows() + batching_rows(50 if args.quick else 400) + tmab_rows(60 if args.quick else 200, 10, 5, range(2 if args.quick else 5))
    width = max(len(r[0]) for r in rows)
    print(f"shapley_cnn core benchmarks ({torch.get_num_threads()} threads, torch {torch.__version__})\n")
    print(f"| {'what':<{width}} | {'measured':>22} | note |\n|{'-' * (width + 2)}|{'-' * 24}|------|")
    for what, measured, note in rows: print(f"| {what:<{width}} | {measured:>22} | {note} |")

if __name__ == '__main__': main()
