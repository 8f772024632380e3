"""Shared fixtures.

The tests that use the ``mnist_test`` or ``mnist_test_dir`` fixtures need the 10,000 real
MNIST test digits (standard IDX files).  They are looked up where
:func:`skrbm_impute.datasets.load_mnist` looks (``$SKRBM_IMPUTE_DATA``, else
``~/.skrbm_impute/mnist``) and, in a development checkout, in ``../shared/data/mnist``;
when absent they are downloaded (checksummed) into ``~/.skrbm_impute/mnist`` if the network
allows.  Without files and network those tests are *skipped* with a reason saying how to
provide the data, unless ``SKRBM_IMPUTE_REQUIRE_DATA=1`` (set by ``.ci/run``): then they fail.
"""

import os
from pathlib import Path

import numpy as np
import pytest

REQUIRE_DATA_ENV = "SKRBM_IMPUTE_REQUIRE_DATA"

# A development checkout keeps the digits next to the repository; a fresh clone has none.
_SIBLING_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"

#: Seconds per download request: offline, the attempt must fail fast.
DOWNLOAD_TIMEOUT = 5


def _candidate_dirs():
    from skrbm_impute.datasets import get_data_home

    dirs = [get_data_home()]
    if _SIBLING_MNIST.is_dir():
        dirs.append(_SIBLING_MNIST)
    return dirs


def _has_test_digits(directory):
    return all(
        (directory / name).exists() or (directory / f"{name}.gz").exists()
        for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")
    )


def locate_mnist_test_dir(mirrors=None):
    """The folder holding the MNIST test digits' IDX files, downloading them if needed.

    Skips the calling test when they cannot be found or fetched, or fails it under
    ``SKRBM_IMPUTE_REQUIRE_DATA=1``.
    """
    from skrbm_impute.datasets import MNIST_MIRRORS, get_data_home, load_mnist

    for directory in _candidate_dirs():
        if _has_test_digits(directory):
            return directory
    home = get_data_home()
    try:
        load_mnist("test", data_home=home, download=True, timeout=DOWNLOAD_TIMEOUT,
                   mirrors=MNIST_MIRRORS if mirrors is None else mirrors)
    except OSError as exc:
        cause = str(exc).split(" and ", 1)[-1].split(" (", 1)[0]  # "the download failed"
        message = (
            f"needs the real MNIST test digits: not found, and {cause}. To run it, set "
            "SKRBM_IMPUTE_DATA to a folder holding t10k-images-idx3-ubyte.gz and "
            f"t10k-labels-idx1-ubyte.gz (or put them in {home})."
        )
        if os.environ.get(REQUIRE_DATA_ENV) == "1":
            pytest.fail(f"{REQUIRE_DATA_ENV}=1 and this test {message}", pytrace=False)
        pytest.skip(message)
    return home


@pytest.fixture(scope="session")
def mnist_test_dir():
    """:func:`locate_mnist_test_dir`, once per run (a failed download is not retried)."""
    return locate_mnist_test_dir()


@pytest.fixture(scope="session")
def mnist_test(mnist_test_dir):
    """The 10,000 real MNIST test digits (X in [0, 1], y)."""
    from skrbm_impute.datasets import load_mnist

    return load_mnist(subset="test", data_home=mnist_test_dir, download=False)


@pytest.fixture
def nan_images():
    """30 square 4x4 'images' in [0, 1] with about 30% NaN (no all-NaN column or row)."""
    rng = np.random.RandomState(0)
    X = rng.random_sample((30, 16))
    missing = rng.random_sample(X.shape) < 0.3
    missing[0] = False  # every column keeps an observed entry
    missing[:, 0] = False  # every row too
    X[missing] = np.nan
    return X
