import os
from pathlib import Path

import numpy as np
import pytest

SHARED_MNIST = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "mnist"


def mnist_dir():
    """The folder with the real MNIST test digits: $SKRBM_IMPUTE_DATA, else ../shared."""
    env = os.environ.get("SKRBM_IMPUTE_DATA")
    return Path(env) if env else SHARED_MNIST


@pytest.fixture(scope="session")
def mnist_test():
    """The 10,000 real MNIST test digits (X in [0, 1], y)."""
    from skrbm_impute.datasets import load_mnist

    directory = mnist_dir()
    if not (directory / "t10k-images-idx3-ubyte.gz").exists() and not (
        directory / "t10k-images-idx3-ubyte"
    ).exists():
        pytest.fail(f"MNIST test digits not found in {directory}; set SKRBM_IMPUTE_DATA.")
    return load_mnist(subset="test", data_home=directory, download=False)


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
