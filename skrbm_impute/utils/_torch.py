"""torch helpers: device resolution, local generators, the thread policy."""

import os
import time
from contextlib import contextmanager

import torch

from ._validation import check_device


def resolve_device(device):
    """Turn ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"auto"`` or a ``torch.device`` into a device.

    Parameters
    ----------
    device : str or torch.device
        See :func:`skrbm_impute.utils.check_device`, which this is.

    Returns
    -------
    device : torch.device
        ``"auto"`` is CUDA when it is available, else the CPU.
    """
    return check_device(device)


def make_generator(seed, device):
    """A local ``torch.Generator`` on ``device`` seeded with ``seed`` (never the global RNG).

    Parameters
    ----------
    seed : int
        The generator's seed.
    device : str or torch.device
        Where the generator draws.

    Returns
    -------
    generator : torch.Generator
        Seeded.
    """
    generator = torch.Generator(device=device)
    generator.manual_seed(int(seed))
    return generator


#: Window over which ``n_threads="auto"`` measures the CPU time other processes use,
#: and how long that measurement is reused (so tight loops of small calls don't pay it).
_BUSY_WINDOW_S, _BUSY_REUSE_S = 0.05, 5.0
_busy_cache = {"at": -float("inf"), "cores": 0.0}


def _cpu_ticks():
    """``(busy ticks of all CPUs, ticks of this process and all its threads)`` from
    ``/proc``, or ``None`` where it is absent."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
        with open("/proc/self/stat") as f:
            own = f.read().rsplit(")", 1)[1].split()
    except (OSError, ValueError, IndexError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = fields
    return user + nice + system + irq + softirq + steal, int(own[11]) + int(own[12])


def cores_busy_elsewhere():
    """CPU cores that other processes keep busy now.

    Returns
    -------
    cores : float
        Non-negative.

    Notes
    -----
    Linux: the CPU time all processes used over a ``_BUSY_WINDOW_S`` window, less this
    process's own (its torch threads spinning included), reused for ``_BUSY_REUSE_S``.
    Elsewhere: the 1-minute load average, which lags by about a minute and counts this
    process too.
    """
    now = time.monotonic()
    if now - _busy_cache["at"] < _BUSY_REUSE_S:
        return _busy_cache["cores"]
    before = _cpu_ticks()
    if before is None:
        try:
            return os.getloadavg()[0]
        except (AttributeError, OSError):
            return 0.0
    time.sleep(_BUSY_WINDOW_S)
    after = _cpu_ticks()
    elapsed = time.monotonic() - now
    others = (after[0] - before[0]) - (after[1] - before[1])
    cores = max(0.0, others / os.sysconf("SC_CLK_TCK") / elapsed)
    _busy_cache.update(at=time.monotonic(), cores=cores)
    return cores


def resolve_threads(n_threads):
    """The torch thread count for ``n_threads``.

    Parameters
    ----------
    n_threads : int, "auto" or None
        ``None``: leave torch's setting.  ``"auto"``: torch's setting, capped at the
        cores this process may use (``sched_getaffinity``) less those other processes
        keep busy (:func:`cores_busy_elsewhere`), rounded; never fewer than one.

    Returns
    -------
    n_threads : int or None
        The count to set, or ``None`` to leave torch's setting.
    """
    if n_threads is None:
        return None
    if n_threads == "auto":
        try:
            n_cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            n_cpus = os.cpu_count() or 1
        idle = int(n_cpus - cores_busy_elsewhere() + 0.5)
        return max(1, min(torch.get_num_threads(), idle))
    return int(n_threads)


@contextmanager
def torch_threads(n_threads):
    """Run the block with ``n_threads`` torch threads; torch's own setting is restored.

    Parameters
    ----------
    n_threads : int, "auto" or None
        As :func:`resolve_threads` reads it.

    Yields
    ------
    None
        The block runs with the thread count set.
    """
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
