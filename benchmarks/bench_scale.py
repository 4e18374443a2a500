"""Scaling benchmark: Neuron Shapley on Ray workers, measured in one run on this machine; prints tables and an estimate.

    python benchmarks/bench_scale.py [--walks 32] [--images 64] [--device cuda] [--gpu-images-per-second 2000]

Data: the MNIST split where $SHAPLEY_CNN_MNIST (or ../shared/data/mnist) has the MNIST files, else the digits;
DigitCNN trained on the matching train split (cached after the first run).
1. The DigitCNN Neuron Shapley run (TMAB, Neuron Shapley's truncation, all 320 filters, a budget of --walks walks on
   --images images each): in one process, on 1 local Ray worker and on 2. The values are checked equal. It prints
   the ratios: 1 worker against one process (Ray's overhead) and 2 workers against 1 (the speed-up), with and
   without the workers' start.
2. Where a GPU is (or with --device cuda): the same run on the GPU against the CPU (coalitions x images per second),
   and the GPU's utilisation while it runs. Never needed for the tests.
3. On paper: the time to value all 17,216 filters of an Inception-v3-sized network with TMAB on 8 and 64 GPUs. It
   uses Inception-v3's forward cost measured here (on the GPU where there is one), the cost of a walk step against a
   full forward pass measured on Inception-v3 itself (every filter, 299x299, the walk engine; random weights), the
   scaling measured in 1, and the assumptions it prints.
"""
import argparse, subprocess, threading
from dataclasses import replace
import torch, torchvision
from common import timed, mnist_or_digits
from shapley_cnn.experiment import Experiment
from shapley_cnn.data import ImageData
from shapley_cnn.filters import FilterGame, walk_step_cost
from shapley_cnn.neurons import neuron_game, neuron_shapley
from shapley_cnn.shapley import executor
from shapley_cnn.distributed import RayWorkers, start_ray

INCEPTION_FILTERS = 17_216 # every conv filter of Inception-v3 (Ghorbani and Zou)
PAPER_WALKS = 10_000 # "under 10k samples" per filter for most filters with TMAB (about 100k with plain Monte Carlo)
PAPER_TRUNCATION = 10 # truncation gives "about another 10x": a walk evaluates about a tenth of its steps
PAPER_IMAGES = 128 # images per walk in the public code

def forward_seconds(model, shape, device, batch:int, repeats:int=3)->float:
    "Seconds per image of `model`'s forward pass on `batch` random images of `shape` on `device`."
    model, x = model.eval().to(device), torch.randn(batch, *shape, device=device)
    with torch.inference_mode():
        model(x)  # warm-up
        if device != 'cpu': torch.cuda.synchronize()
        _, seconds = timed(lambda: [model(x) for _ in range(repeats)] and (device == 'cpu' or torch.cuda.synchronize()))
    return seconds / (repeats * batch)

def inception_step_share(images:int=4, steps:int=12)->float:
    "A walk step's cost as a share of a full forward pass, on Inception-v3 (every filter, 299x299, the mean baseline)."
    g = torch.Generator().manual_seed(0)
    data, reference = [ImageData(torch.rand(n, 3, 299, 299, generator=g), torch.zeros(n, dtype=torch.long), 'random')
                       for n in (images, 2 * images)]
    model = torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False)
    game = FilterGame(model, data, metric='loss', baseline='mean', reference=reference)
    return walk_step_cost(game, steps=steps)['step_share']

def answering(workers):
    "The Ray workers, once every one of them has started and answers."
    workers.pids()
    return workers

def gpu_utilisation(stop:threading.Event, samples:list):
    "Sample the GPU's utilisation (nvidia-smi, percent) every half second until `stop` is set."
    while not stop.wait(0.5):
        out = subprocess.run(['nvidia-smi', '--query-gpu=utilization.gpu', '--format=csv,noheader,nounits'],
                             capture_output=True, text=True)
        if out.returncode == 0: samples.append(float(out.stdout.split()[0]))

def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--walks', type=int, default=32, help="TMAB's budget of walks (default: %(default)s)")
    parser.add_argument('--images', type=int, default=64, help='images per walk (default: %(default)s)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='where 2. runs (default: cuda where there is a GPU)')
    parser.add_argument('--gpu-images-per-second', type=float, default=2000.,
                        help="3.'s assumed Inception-v3 forward throughput of one GPU where none is measured here "
                             "(default: %(default)s)")
    args = parser.parse_args()
    setup = Experiment(mnist_or_digits(), 'digitcnn', progress=False)
    game = neuron_game(setup, images_per_walk=args.images)
    run = lambda workers=None, game=game: neuron_shapley(game, k=10, max_permutations=args.walks, seed=0,
                                                         progress=False, workers=workers)
    _, ray_start = timed(lambda: start_ray(RayWorkers(2)))
    print(f"DigitCNN, {game.n_players} filters, TMAB with Neuron Shapley's truncation, {args.walks} walks on "
          f"{args.images} images of {game.data.name} each; {torch.get_num_threads()} torch threads in one process, "
          f"1 per Ray worker; the local Ray runtime started in {ray_start:.1f} s (once)\n", flush=True)
    here, t_here = timed(run)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # as a worker has it: Ray's own overhead is 1 worker against this
    alone, t_alone = timed(run)
    torch.set_num_threads(threads)
    assert torch.equal(alone.counts, here.counts) and torch.equal(alone.values, here.values)
    rows = {f'one process, {threads} threads': (t_here, 0.), 'one process, 1 thread': (t_alone, 0.)}
    print(f"one process: {t_here:.1f} s ({threads} threads), {t_alone:.1f} s (1 thread)", flush=True)
    for n in (1, 2):
        workers, start = timed(lambda: answering(executor(game, n)))  # the workers' start alone
        workers.close()
        on_ray, seconds = timed(lambda: run(n))
        assert torch.equal(on_ray.counts, here.counts) and torch.equal(on_ray.values, here.values), \
            f"{n} Ray workers gave other values than one process"
        rows[f"{n} Ray worker{'s' * (n > 1)}"] = (seconds, start)
        print(f"{n} Ray worker{'s' * (n > 1)}: {seconds:.1f} s", flush=True)
    work = here.n_evals * args.images
    print(f"{'':24} {'seconds':>8} {'of which start':>15} {'coalitions x images/s':>22} {'(walking only)':>15}")
    for name, (seconds, start) in rows.items():
        print(f"{name:24} {seconds:8.1f} {start:15.1f} {work / seconds:22,.0f} {work / (seconds - start):15,.0f}")
    (one, s1), (two, s2) = rows['1 Ray worker'], rows['2 Ray workers']
    print(f"\nRay's overhead, 1 worker against one process with 1 thread: {one / t_alone:.2f}x the time "
          f"({(one - s1) / t_alone:.2f}x walking only)\n2 workers against 1: {one / two:.2f}x faster "
          f"({(one - s1) / (two - s2):.2f}x walking only); 2 workers against one process with {threads} threads: "
          f"{two / t_here:.2f}x the time")
    print(f"values equal to the last bit in all four runs; {here.n_evals:,} coalitions evaluated, "
          f"{here.n_evals / args.walks / game.n_players:.2f} of each walk's steps (truncation)")

    gpu_ips = None
    if args.device != 'cpu':
        on_gpu = neuron_game(replace(setup, device=args.device), images_per_walk=args.images)
        run(game=on_gpu)  # warm-up: kernels, allocator
        stop, samples = threading.Event(), []
        watcher = threading.Thread(target=gpu_utilisation, args=(stop, samples)); watcher.start()
        far, t_far = timed(lambda: run(game=on_gpu))
        stop.set(); watcher.join()
        agree = (far.values - here.values).abs().max().item()
        print(f"\n{args.device}: {t_far:.1f} s, {far.n_evals * args.images / t_far:,.0f} coalitions x images/s against "
              f"{work / t_here:,.0f} on the CPU: {t_here / t_far:.1f}x; GPU utilisation "
              f"{sum(samples) / max(len(samples), 1):.0f}% on average ({len(samples)} samples); values differ by at most "
              f"{agree:.2g} (argmax ties may fall the other way on a GPU)")
        gpu_ips = 1 / forward_seconds(torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False),
                                      (3, 299, 299), args.device, 256)

    # 3. on paper: Inception-v3's forward cost, and what a walk step costs against a full forward pass
    inception_cpu = forward_seconds(torchvision.models.inception_v3(weights=None, aux_logits=False, init_weights=False),
                                    (3, 299, 299), 'cpu', 8, repeats=2)
    digitcnn_cpu = forward_seconds(setup.network, tuple(game.images.shape[1:]), 'cpu', args.images, repeats=20)
    digitcnn_share = (t_here / work) / digitcnn_cpu  # a walk step on one image, as a share of a full forward pass
    step_share = inception_step_share()
    efficiency = (one - s1) / (two - s2) / 2  # the measured scaling from 1 to 2 workers, per worker
    measured = gpu_ips is not None
    gpu_ips = gpu_ips or args.gpu_images_per_second
    steps = INCEPTION_FILTERS / PAPER_TRUNCATION
    forwards = PAPER_WALKS * steps * PAPER_IMAGES * step_share
    print(f"\nOn paper: TMAB over all {INCEPTION_FILTERS:,} filters of an Inception-v3-sized network")
    print(f"  measured here: Inception-v3 forward {inception_cpu * 1e3:.0f} ms per image on this CPU; a walk step costs "
          f"{step_share:.2f} of a full forward pass (Inception-v3, every filter, 299x299; DigitCNN's: "
          f"{digitcnn_share:.2f}); scaling efficiency "
          f"{efficiency:.2f} per added worker (1 to 2 workers above)")
    print(f"  assumed: {PAPER_WALKS:,} walks (the paper: TMAB needs under 10k samples for most filters, Monte Carlo about "
          f"100k); a tenth of each walk's steps evaluated (the paper: truncation saves about 10x); "
          f"{PAPER_IMAGES} images per step (the public code); one GPU "
          f"{'measured at' if measured else 'assumed at'} {gpu_ips:,.0f} Inception-v3 images per second")
    print(f"  the work: {forwards:.2e} Inception-v3 forward passes' worth of images")
    for gpus in (8, 64):
        hours = forwards / (gpu_ips * gpus * min(efficiency, 1.)) / 3600
        print(f"  {gpus:>3} GPUs: about {hours:,.1f} hours ({hours / 24:.1f} days); with plain Monte Carlo's 100k walks, "
              "10x that")
    print(f"  on this CPU alone: about {forwards * inception_cpu / 3600 / 24 / 365:,.0f} years")

if __name__ == '__main__': main()
