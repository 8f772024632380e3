"""torch helpers: device resolution at fit time, local generators, CPU state for pickling."""

import os
from contextlib import contextmanager

import torch


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a ``torch.device`` into a device.

    ``"auto"`` picks CUDA when it is available, else the CPU.  Asking for CUDA on a
    machine without it raises a ``ValueError`` rather than failing deep inside torch.
    """
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={str(device)!r} was requested but CUDA is not available.")
    return device


def make_generator(seed, device):
    """A local ``torch.Generator`` on ``device`` seeded with ``seed`` (never the global RNG)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


def state_to_cpu(state):
    """Detach a dict of tensors onto the CPU, so a fitted estimator pickles anywhere."""
    return {name: tensor.detach().to("cpu") for name, tensor in state.items()}


def resolve_threads(n_threads):
    """The torch thread count for ``n_threads`` (None: leave torch's setting)."""
    if n_threads is None:
        return None
    if n_threads == "auto":
        try:
            n_cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_cpus = os.cpu_count() or 1
        try:
            busy = os.getloadavg()[0]
        except (AttributeError, OSError):
            busy = 0.0
        idle = int(n_cpus - busy + 0.5)
        return max(1, min(torch.get_num_threads(), idle))
    return int(n_threads)


@contextmanager
def torch_threads(n_threads):
    """Run the block with ``n_threads`` torch threads; torch's own setting is restored."""
    wanted = resolve_threads(n_threads)
    before = torch.get_num_threads()
    if wanted is None or wanted == before:
        yield
        return
    torch.set_num_threads(wanted)
    try:
        yield
    finally:
        torch.set_num_threads(before)
