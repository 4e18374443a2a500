"""Data-valuation benchmark, measured in one run on this machine; prints the three figures of the data-valuation issue.

    python benchmarks/bench_datavalue.py [--k 5] [--naive 100] [--coalitions 128] [--sklearn 20] [--tmc-minutes 10]
                                         [--tmc-noise 0.1] [--device cuda] [--skip-tmc | --only-tmc]

Data: the MNIST split (7,000 training, 1,000 validation images) where $SHAPLEY_CNN_MNIST (or ../shared/data/mnist)
has the MNIST files, else the digits (1,000 and 250); the features are DigitCNN's penultimate layer, DigitCNN
trained on the matching training split (cached after the first run).
1. knn_shapley (the closed form of Jia et al., batched over validation images) on all training by all validation
   feature vectors (target: under 2 s on 2 CPU cores for 7,000 x 1,000), against the same recursion written as in
   the paper's reference code: one validation image at a time, a Python loop over the sorted training images
   (timed on --naive validation images, both on the same ones, values checked equal).
2. The batched logistic-regression utility (`DataGame.value`: --coalitions random coalitions, each image in each
   with chance 1/2, trained as one batched L-BFGS optimisation, warm-started from the head on all images) against
   scikit-learn's `LogisticRegression` fitted once per coalition (how OpenDataVal and pyDVL evaluate it) on the same
   features, the same coalitions (the first --sklearn of them) and the same tolerance; coalitions per second of each
   (target: at least 20x), the largest accuracy difference, and the batched heads from a cold start (zeros) for
   comparison. On all training images and on the first 1,000.
3. TMC-Shapley (`tmc_shapley`, truncation 0.01) of the first 1,000 training images with --tmc-noise of the training
   labels flipped (DigitCNN trained on the noisy labels for at most 5 epochs, its features), in rounds of 64 walks,
   until the mean standard error is below a tenth of the values' spread (their standard deviation over the images)
   or --tmc-minutes pass (target: under 10 minutes on 2 CPU cores); the walks, seconds and both numbers.
With --device cuda: knn_shapley and the batched heads on the GPU against the CPU (values checked equal). Never needed for
the tests.
"""
import argparse, tempfile, time, warnings
from pathlib import Path
import numpy as np
import torch
from common import timed, mnist_or_digits
from shapley_cnn.experiment import Experiment
from shapley_cnn.data import flip_labels
from shapley_cnn.models import train_model
from shapley_cnn.datavalue import knn_shapley, penultimate_features, DataGame, tmc_shapley

def knn_shapley_loop(train_x, train_y, valid_x, valid_y, k):
    "The paper's recursion as its reference code runs it: per validation image, a Python loop over the sorted images."
    n, values = len(train_y), np.zeros(len(train_y))
    for x, y in zip(valid_x, valid_y):
        order = np.argsort(((train_x - x) ** 2).sum(1), kind='stable')
        match = (train_y[order] == y).astype(float)
        s = np.zeros(n); s[n - 1] = match[n - 1] * min(k, n) / (k * n)
        for i in range(n - 2, -1, -1):
            s[i] = s[i + 1] + (match[i] - match[i + 1]) / k * min(k, i + 1) / (i + 1)
        values[order] += s
    return values / len(valid_y)

def sklearn_accuracies(game:DataGame, coalitions:torch.Tensor)->tuple[np.ndarray, float]:
    "Accuracy of scikit-learn's LogisticRegression fitted on each coalition (the game's features, C and tol), and the seconds."
    from sklearn.linear_model import LogisticRegression
    from sklearn.exceptions import ConvergenceWarning
    x, valid_x = game.x[:, :-1].double().cpu().numpy(), game.valid_x[:, :-1].double().cpu().numpy()
    y, valid_y = game.y.argmax(1).cpu().numpy(), game.valid_labels.cpu().numpy()
    start, accuracies = time.perf_counter(), []
    for c in coalitions.numpy():
        with warnings.catch_warnings():
            warnings.simplefilter('ignore', ConvergenceWarning)
            model = LogisticRegression(C=game.C, tol=game.tol, max_iter=game.max_iter).fit(x[c], y[c])
        accuracies.append((model.predict(valid_x) == valid_y).mean())
    return np.array(accuracies), time.perf_counter() - start

def batched_against_sklearn(train_x, train_y, valid_x, valid_y, n_coalitions:int, n_sklearn:int, device:str, label:str):
    "Figure 2 on these features."
    game = DataGame(train_x, train_y, valid_x, valid_y, device=device)
    coalitions = torch.rand(n_coalitions, game.n_players, generator=torch.Generator().manual_seed(0)) < 0.5
    game.value(coalitions[:4])  # warm-up
    ours, t_ours = timed(lambda: game.value(coalitions))
    iterations = game.iterations
    game.heads_trained, game.iterations = 0, 0
    cold, t_cold = timed(lambda: torch.cat([game.accuracy(*game.train(c, init=game.zeros(len(c))))
                                            for c in coalitions.split(game.batch_size)]))
    theirs, t_theirs = sklearn_accuracies(game, coalitions[:n_sklearn])
    rate = lambda count, seconds: count / seconds
    print(f"\n{label}: {game.n_players} training images, coalitions of about {game.n_players // 2}, tol {game.tol}, C {game.C}")
    print(f"{'':52} {'coalitions/s':>13} {'iterations':>11}")
    print(f"{'batched heads, warm start (DataGame.value)':52} {rate(n_coalitions, t_ours):13.1f} {iterations / n_coalitions:11.1f}")
    print(f"{'batched heads, cold start (zeros)':52} {rate(n_coalitions, t_cold):13.1f} {game.iterations / n_coalitions:11.1f}")
    print(f"{'scikit-learn LogisticRegression, one fit per coalition':52} {rate(n_sklearn, t_theirs):13.1f}")
    print(f"ratio: {rate(n_coalitions, t_ours) / rate(n_sklearn, t_theirs):.1f}x warm, "
          f"{rate(n_coalitions, t_cold) / rate(n_sklearn, t_theirs):.1f}x cold (target: 20x); largest accuracy difference "
          f"on the {n_sklearn} shared coalitions {np.abs(theirs - ours[:n_sklearn].numpy()).max():.4f} "
          f"({len(valid_y)} validation images), cold against warm {(cold - ours).abs().max():.4f}")
    return game, t_ours

def noisy_game(train, valid, noise:float)->DataGame:
    "The first 1,000 training images with `noise` of the labels flipped, on the features of DigitCNN trained on them."
    noisy, flipped = flip_labels(train, noise, seed=0)
    network = train_model('digitcnn', noisy, valid, epochs=5, progress=False)
    players = noisy.subset(torch.arange(min(1000, len(noisy))))
    print(f"\nTMC-Shapley of the first {len(players)} images of {noisy.name} ({int((flipped < len(players)).sum())} "
          "flipped; DigitCNN trained on the noisy labels; logistic-regression heads, truncation 0.01):")
    return DataGame(penultimate_features(network, players), players.labels, penultimate_features(network, valid), valid.labels)

def tmc_until(game:DataGame, minutes:float):
    "Figure 3: rounds of 64 TMC walks (walked together) until the mean stderr is below a tenth of the values' spread, or `minutes` pass."
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as folder:
        checkpoint, walks = Path(folder) / 'tmc.npz', 0
        while True:
            walks += 64
            values = tmc_shapley(game, walks, seed=0, checkpoint=checkpoint, progress=False)
            stderr, spread, seconds = values.stderr.mean().item(), values.values.std().item(), time.perf_counter() - start
            print(f"  {walks:4d} walks, {seconds:6.0f} s: mean stderr {stderr:.5f}, spread {spread:.5f} "
                  f"(ratio {spread / stderr:.1f}, target 10)", flush=True)
            if stderr < spread / 10 or seconds > 60 * minutes: break
    reached = stderr < spread / 10
    print(f"TMC-Shapley of {game.n_players} images: {'reached' if reached else 'NOT reached'} stderr < spread/10 after "
          f"{walks} walks in {seconds:.0f} s ({values.n_evals:,} heads trained; target: under 600 s)")
    if not reached:  # the stderr falls as 1/sqrt(walks); the spread, once the noise is out of it, stays
        needed = walks * (10 * stderr / spread) ** 2
        print(f"at this rate (stderr ~ 1/sqrt(walks), spread as now) it would need about {needed:,.0f} walks, "
              f"{needed * seconds / walks:,.0f} s")

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--k', type=int, default=5, help='neighbours (default: %(default)s)')
    parser.add_argument('--naive', type=int, default=100, help='validation images for the loop comparison (default: %(default)s)')
    parser.add_argument('--coalitions', type=int, default=128, help='coalitions for the batched heads (default: %(default)s)')
    parser.add_argument('--sklearn', type=int, default=20, help='of them fitted by scikit-learn (default: %(default)s)')
    parser.add_argument('--tmc-minutes', type=float, default=10, help='budget of the TMC run (default: %(default)s)')
    parser.add_argument('--tmc-noise', type=float, default=0.1, help='share of the labels flipped for the TMC run (default: %(default)s)')
    parser.add_argument('--skip-tmc', action='store_true', help='leave out the TMC run')
    parser.add_argument('--only-tmc', action='store_true', help='only the TMC run')
    parser.add_argument('--device', default='cpu', help="also time knn_shapley and the heads on this device, e.g. cuda (default: %(default)s)")
    args = parser.parse_args()
    setup = Experiment(mnist_or_digits(), 'digitcnn', progress=False)
    train, valid = setup.splits['train'], setup.splits['valid']
    if not args.skip_tmc: tmc_game = noisy_game(train, valid, args.tmc_noise)
    if args.only_tmc: return tmc_until(tmc_game, args.tmc_minutes)
    (train_x, valid_x), t_features = timed(lambda: [penultimate_features(setup.network, d) for d in (train, valid)])
    print(f"DigitCNN's penultimate features ({train_x.shape[1]} per image) of {train.name} and {valid.name}: "
          f"{t_features:.1f} s\n")
    full, t_full = timed(lambda: knn_shapley(train_x, train.labels, valid_x, valid.labels, k=args.k))
    print(f"knn_shapley, K={args.k}, {len(train)} training x {len(valid)} validation vectors: {t_full:.2f} s "
          f"(target: under 2 s for 7,000 x 1,000 on 2 CPU cores)")
    m = min(args.naive, len(valid))
    ours, t_ours = timed(lambda: knn_shapley(train_x, train.labels, valid_x[:m], valid.labels[:m], k=args.k))
    loop, t_loop = timed(lambda: knn_shapley_loop(train_x.double().numpy(), train.labels.numpy(),
                                                  valid_x[:m].double().numpy(), valid.labels[:m].numpy(), args.k))
    gap = np.abs(ours.values.numpy() - loop)
    # float32 distances (ours) and float64 ones (the loop) may order two nearly equidistant images differently
    assert gap.mean() < 1e-7, f"the batched closed form differs from the loop (mean gap {gap.mean():.1e})"
    print(f"\non the first {m} validation images:")
    print(f"{'':52} {'seconds':>9}")
    print(f"{'knn_shapley (batched)':52} {t_ours:9.3f}")
    print(f"{'one validation image at a time, Python loop':52} {t_loop:9.3f}")
    print(f"ratio: {t_loop / t_ours:.0f}x; values equal to {gap.max():.1e} (largest gap; near-ties of float32 distances)")
    if args.device != 'cpu':
        knn_shapley(train_x[:10], train.labels[:10], valid_x[:10], valid.labels[:10], device=args.device)  # warm-up
        far, t_far = timed(lambda: knn_shapley(train_x, train.labels, valid_x, valid.labels, k=args.k, device=args.device))
        assert (far.values - full.values).abs().max() < 1e-6, f"knn_shapley on {args.device} differs from the CPU's"
        print(f"\nknn_shapley on {args.device}: {t_far:.3f} s, {t_full / t_far:.1f}x the CPU")
    game, t_cpu = batched_against_sklearn(train_x, train.labels, valid_x, valid.labels, args.coalitions, args.sklearn, 'cpu',
                                          f"all of {train.name}")
    batched_against_sklearn(train_x[:1000], train.labels[:1000], valid_x, valid.labels, args.coalitions, args.sklearn,
                            'cpu', f"the first 1,000 images of {train.name}")
    if args.device != 'cpu':
        _, t_far = batched_against_sklearn(train_x, train.labels, valid_x, valid.labels, args.coalitions, 1, args.device,
                                           f"all of {train.name}, heads on {args.device}")
        print(f"batched heads on {args.device}: {t_cpu / t_far:.1f}x the CPU")
    if not args.skip_tmc: tmc_until(tmc_game, args.tmc_minutes)

if __name__ == '__main__': main()
