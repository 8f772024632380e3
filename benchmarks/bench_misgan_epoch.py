"""Time per MisGAN epoch on 8,000 28x28 images, "conv" against "fc", in one run.

Times the two kinds of batch of the training loop (``skrbm_impute._numerics.misgan``)
at batch size 64 on random [0, 1] images with 60% of pixels missing: a critic-only
batch (three WGAN-GP critic updates) and a critic + generator batch (the critic
updates, then the mask generator, data generator and imputer updates).  Each is the
median of ``--repeats`` timed batches after one warm-up batch, in wall-clock time
and in process CPU time: on a shared machine the CPU time of a single-threaded run
(``--threads 1``) is the figure that contention does not inflate.  An epoch of
``--n-images`` images is ``n_batches`` critic updates plus ``n_batches / n_critic``
generator updates (the authors' ``drop_last`` loop with ``n_critic = 5``):

    epoch = n_batches * critic_batch + (n_batches / 5) * generator_part

It prints both architectures, their ratio, and the research note's CPU estimate
scaled to the same number of images (its section 7.3 measured 50,000-image epochs:
conv 1,240 s and fc 65 s with 2 threads, 37 min and 92 s with 1 thread).

    OMP_NUM_THREADS=1 python benchmarks/bench_misgan_epoch.py --threads 1
"""

import argparse
import statistics
import time

import torch

from skrbm_impute._numerics.misgan import (
    build_networks,
    critic_step,
    generator_step,
    make_optimizers,
    reset_parameters,
)

# research/misgan.md section 7.3: seconds per 50,000-image epoch on the 2-core CPU.
NOTE_EPOCH_SECONDS_50K = {1: {"conv": 37 * 60, "fc": 92}, 2: {"conv": 1240, "fc": 65}}


def _sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_batches(architecture, device, repeats, batch_size=64, n_critic=5):
    generator = torch.Generator(device=device).manual_seed(0)
    networks = build_networks(architecture).to(device)
    reset_parameters(networks, generator)
    optimizers = make_optimizers(networks)
    data = torch.rand(batch_size, 784, generator=generator, device=device)
    observed = (torch.rand(batch_size, 784, generator=generator, device=device) > 0.6).float()
    data = data * observed
    options = dict(tau=0.0, latent_size=128, generator=generator)

    def critic():
        critic_step(networks, optimizers, data, observed, gp_lambda=10.0, **options)

    def generators():
        generator_step(networks, optimizers, data, observed, alpha=0.1, beta=0.1,
                       gamma=0.0, **options)

    times = {(name, clock): [] for name in ("critic", "generator") for clock in ("wall", "cpu")}
    for repeat in range(repeats + 1):
        for name, step in (("critic", critic), ("generator", generators)):
            _sync(device)
            wall, cpu = time.perf_counter(), time.process_time()
            step()
            _sync(device)
            if repeat:  # the first round is a warm-up
                times[name, "wall"].append(time.perf_counter() - wall)
                times[name, "cpu"].append(time.process_time() - cpu)
    return {key: statistics.median(values) for key, values in times.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n-images", type=int, default=8000)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)

    n_batches = args.n_images // 64
    epochs = {}
    print(f"device={device}, threads={args.threads}, repeats={args.repeats}, "
          f"{args.n_images} images = {n_batches} batches of 64, {n_batches / 5:.0f} generator steps")
    for architecture in ("conv", "fc"):
        batch = time_batches(architecture, device, args.repeats)
        for clock in ("wall", "cpu"):
            epoch = n_batches * batch["critic", clock] + n_batches / 5 * batch["generator", clock]
            epochs[architecture, clock] = epoch
            print(f"{architecture:>4} {clock:>4}: critic batch "
                  f"{batch['critic', clock] * 1e3:8.1f} ms (median), generator part "
                  f"{batch['generator', clock] * 1e3:8.1f} ms -> epoch {epoch:7.1f} s")
    clocks = ("wall", "cpu") if device.type == "cpu" else ("wall",)
    for clock in clocks:
        print(f"conv / fc epoch time ({clock}): "
              f"{epochs['conv', clock] / epochs['fc', clock]:.1f}x")
    note = NOTE_EPOCH_SECONDS_50K.get(args.threads) if device.type == "cpu" else None
    if note:
        for architecture in ("conv", "fc"):
            scaled = note[architecture] * args.n_images / 50000
            ratios = ", ".join(
                f"{clock} / note = {epochs[architecture, clock] / scaled:.2f}" for clock in clocks
            )
            print(f"{architecture:>4}: research note {scaled:7.1f} s per epoch "
                  f"({args.threads} thread(s), scaled to {args.n_images} images); {ratios}")


if __name__ == "__main__":
    main()
