"""Where the benchmark's cells run: joblib's own backends or a Dask cluster; torch threads."""

import contextlib
import os


@contextlib.contextmanager
def joblib_backend(backend, scheduler=None, n_workers=None):
    """Run the enclosed joblib calls on ``backend``.

    ``"dask"`` connects to ``scheduler`` or starts a ``LocalCluster`` (``n_workers``
    single-threaded worker processes, closed on exit).  Other names are joblib's own
    backends.
    """
    import joblib

    if backend in (None, "loky"):
        yield
        return
    if backend == "dask":
        with _dask_client(scheduler, n_workers):
            with joblib.parallel_config(backend="dask"):
                yield
        return
    with joblib.parallel_config(backend=backend):
        yield


@contextlib.contextmanager
def _dask_client(scheduler, n_workers):
    try:
        from dask import distributed
    except ImportError as exc:
        raise ImportError("--backend dask needs 'dask.distributed', which is not installed. "
                          "Install the 'dask' extra: python -m pip install "
                          "\"skrbm_impute[dask]\".") from exc
    if scheduler:
        client = distributed.Client(scheduler)
        cluster = None
    else:
        workers = n_workers if n_workers and n_workers > 0 else None
        cluster = distributed.LocalCluster(n_workers=workers, threads_per_worker=1,
                                           processes=True, dashboard_address=None)
        client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def limit_threads(n_threads):
    """torch and OpenMP threads of this process and of the worker processes it starts."""
    import torch

    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    torch.set_num_threads(n_threads)
