import functools
import gzip
import http.server
import shutil
import threading

import numpy as np
import pytest

from skrbm_impute.datasets import (
    load_dataset,
    load_digits_01,
    load_mnist,
    load_mnist_sample,
    read_idx,
)

import conftest


def test_real_mnist_test_digits(mnist_test):
    X, y = mnist_test
    assert X.shape == (10000, 784) and y.shape == (10000,)
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))
    assert list(y[:5]) == [7, 2, 1, 0, 4]  # the well-known first test labels


def _test_file_bytes(directory, name):
    """The decompressed bytes of an MNIST test file, stored gzipped or not."""
    gz = directory / f"{name}.gz"
    if gz.exists():
        with gzip.open(gz) as f:
            return f.read()
    return (directory / name).read_bytes()


def test_uncompressed_idx_reads_the_same(tmp_path, mnist_test_dir):
    raw = _test_file_bytes(mnist_test_dir, "t10k-labels-idx1-ubyte")
    (tmp_path / "labels").write_bytes(raw)
    (tmp_path / "labels.gz").write_bytes(gzip.compress(raw))
    labels = read_idx(tmp_path / "labels")
    np.testing.assert_array_equal(labels, read_idx(tmp_path / "labels.gz"))
    assert labels.shape == (10000,) and labels.dtype == np.uint8


def test_corrupt_idx_is_refused(tmp_path):
    (tmp_path / "bad").write_bytes(b"\x00\x00\x08\x01\x00\x00\x00\x05abc")
    with pytest.raises(ValueError, match="header promises"):
        read_idx(tmp_path / "bad")
    (tmp_path / "worse").write_bytes(b"PK\x03\x04")
    with pytest.raises(ValueError, match="magic"):
        read_idx(tmp_path / "worse")


@pytest.fixture
def mnist_server(tmp_path, mnist_test_dir):
    """A local HTTP server on 127.0.0.1 serving the MNIST test files, plus a bad copy."""
    root = tmp_path / "served"
    (root / "good").mkdir(parents=True)
    (root / "bad").mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        gz = mnist_test_dir / f"{name}.gz"
        if gz.exists():
            shutil.copy(gz, root / "good" / gz.name)
        else:  # re-compressed: accepted through the content's SHA-256
            (root / "good" / gz.name).write_bytes(
                gzip.compress(_test_file_bytes(mnist_test_dir, name)))
        (root / "bad" / gz.name).write_bytes(gzip.compress(b"not mnist"))
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_download_verifies_and_stores(mnist_server, tmp_path):
    target = tmp_path / "data"
    X, y = load_mnist("test", data_home=target,
                      mirrors=[f"{mnist_server}/bad/", f"{mnist_server}/good/"], timeout=5)
    assert X.shape == (10000, 784)
    assert (target / "t10k-images-idx3-ubyte.gz").exists()
    assert not list(target.glob("*.part"))
    # the second call reads the stored files: no server needed
    X2, _ = load_mnist("test", data_home=target, download=False)
    np.testing.assert_array_equal(X, X2)


def test_checksum_mismatch_is_not_kept(mnist_server, tmp_path):
    target = tmp_path / "data"
    with pytest.raises(OSError, match="checksum mismatch"):
        load_mnist("test", data_home=target, mirrors=[f"{mnist_server}/bad/"], timeout=5)
    assert not list(target.glob("*.gz"))


def test_offline_error_names_the_files(tmp_path, monkeypatch):
    monkeypatch.delenv("SKRBM_IMPUTE_DATA", raising=False)
    with pytest.raises(OSError, match="train-images-idx3-ubyte") as info:
        load_mnist("train", data_home=tmp_path, download=False)
    assert str(tmp_path) in str(info.value)
    with pytest.raises(OSError, match="download failed"):
        load_mnist("train", data_home=tmp_path, mirrors=["http://127.0.0.1:9/"], timeout=2)


def test_environment_variable_points_at_data(monkeypatch, mnist_test_dir):
    monkeypatch.setenv("SKRBM_IMPUTE_DATA", str(mnist_test_dir))
    X, _ = load_dataset("mnist-test", download=False)
    assert X.shape == (10000, 784)


def test_offline_sample_and_digits():
    X, y = load_mnist_sample()
    assert X.shape == (5000, 784) and 0 <= X.min() and X.max() == 1.0
    assert np.bincount(y).tolist() == [500] * 10
    Xd, yd = load_digits_01()
    assert Xd.shape == (1797, 64) and Xd.max() == 1.0 and len(yd) == 1797
    with pytest.raises(ValueError, match="Unknown dataset"):
        load_dataset("cifar")
    with pytest.raises(ValueError, match="subset"):
        load_mnist("validation")


def test_missing_data_skips_offline_and_fails_when_required(tmp_path, monkeypatch):
    empty = tmp_path / "empty"
    monkeypatch.setenv("SKRBM_IMPUTE_DATA", str(empty))
    monkeypatch.setattr(conftest, "_SIBLING_MNIST", tmp_path / "no-shared")
    unreachable = ["http://127.0.0.1:9/"]
    monkeypatch.delenv(conftest.REQUIRE_DATA_ENV, raising=False)
    with pytest.raises(pytest.skip.Exception, match="SKRBM_IMPUTE_DATA"):
        conftest.locate_mnist_test_dir(mirrors=unreachable)
    monkeypatch.setenv(conftest.REQUIRE_DATA_ENV, "1")
    with pytest.raises(pytest.fail.Exception, match="SKRBM_IMPUTE_REQUIRE_DATA=1"):
        conftest.locate_mnist_test_dir(mirrors=unreachable)


def test_digits_found_in_the_data_folder_are_used(tmp_path, monkeypatch, mnist_test_dir):
    folder = tmp_path / "mine"
    folder.mkdir()
    for name in ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(_test_file_bytes(mnist_test_dir, name))  # uncompressed
    monkeypatch.setenv("SKRBM_IMPUTE_DATA", str(folder))
    assert conftest.locate_mnist_test_dir(mirrors=[]) == folder
