"""torch helpers: device resolution at fit time, local generators, CPU state for pickling."""

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
