"""Data-valuation benchmark, measured in one run on this machine; prints a table.

    python benchmarks/bench_datavalue.py [--k 5] [--naive 100] [--device cuda]

Data: the MNIST split (7,000 training, 1,000 validation images) where $SHAPLEY_CNN_MNIST (or ../shared/data/mnist)
has the MNIST files, else the digits (1,000 and 250); the features are DigitCNN's penultimate layer, DigitCNN
trained on the matching training split (cached after the first run).
1. knn_shapley (the closed form of Jia et al., batched over validation images) on all training by all validation
   feature vectors (target: under 2 s on 2 CPU cores for 7,000 x 1,000), against the same recursion written as in
   the paper's reference code: one validation image at a time, a Python loop over the sorted training images
   (timed on --naive validation images, both on the same ones, values checked equal).
2. With --device cuda: knn_shapley on the GPU against the CPU (values checked equal). Never needed for the tests.
"""
import argparse
import numpy as np
import torch
from common import timed, mnist_or_digits
from shapley_cnn.experiment import Experiment
from shapley_cnn.datavalue import knn_shapley, penultimate_features

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

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--k', type=int, default=5, help='neighbours (default: %(default)s)')
    parser.add_argument('--naive', type=int, default=100, help='validation images for the loop comparison (default: %(default)s)')
    parser.add_argument('--device', default='cpu', help="also time knn_shapley on this device, e.g. cuda (default: %(default)s)")
    args = parser.parse_args()
    setup = Experiment(mnist_or_digits(), 'digitcnn', progress=False)
    train, valid = setup.splits['train'], setup.splits['valid']
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

if __name__ == '__main__': main()
