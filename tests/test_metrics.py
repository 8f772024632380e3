"""RMSE, FID (bundled LeNet, Inception, custom features) and downstream accuracy."""

import math
import pickle
import urllib.error

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from skrbm_impute.datasets import load_digits_01, load_mnist_sample
from skrbm_impute.metrics import (
    FeatureStatistics,
    InceptionFeatures,
    downstream_accuracy,
    feature_statistics,
    fid,
    frechet_distance,
    hidden_accuracy,
    load_mnist_lenet,
    mnist_lenet_info,
    rmse,
)
from skrbm_impute.metrics._lenet import normalize


@pytest.fixture(scope="module")
def mnist_sample():
    return load_mnist_sample()


# --------------------------------------------------------------------------- RMSE
def test_rmse_matches_hand_computation_and_skips_complete_rows():
    X_true = np.array([[0.0, 1.0, 0.5], [0.2, 0.2, 0.2], [1.0, 0.0, 0.0]])
    X_imputed = np.array([[0.0, 0.0, 0.0], [9.0, 9.0, 9.0], [0.0, 0.0, 0.0]])
    missing = np.array([[False, True, True], [False, False, False], [True, False, False]])
    # row 0: errors 1 and 0.5 -> sqrt(1.25 / 2); row 1 skipped (its 9s are ignored);
    # row 2: error 1 -> 1.
    assert rmse(X_true, X_imputed, missing) == pytest.approx((math.sqrt(0.625) + 1.0) / 2)
    assert rmse(X_true, X_imputed, missing, pooled=True) == pytest.approx(math.sqrt(2.25 / 3))


def test_rmse_matches_loop_reference_and_ignores_observed_values():
    rng = np.random.default_rng(0)
    X_true, X_imputed = rng.random((40, 30)), rng.random((40, 30))
    missing = rng.random((40, 30)) < 0.3
    missing[5] = False
    per_row = []
    for i in range(40):
        errors = [(X_true[i, j] - X_imputed[i, j]) ** 2 for j in range(30) if missing[i, j]]
        if errors:
            per_row.append(math.sqrt(sum(errors) / len(errors)))
    X_with_nan = np.where(missing, X_imputed, np.nan)  # observed entries are ignored
    assert rmse(X_true, np.where(missing, X_imputed, 5.0), missing) == pytest.approx(
        np.mean(per_row))
    assert rmse(np.where(missing, X_true, np.nan), X_with_nan, missing) == pytest.approx(
        np.mean(per_row))


@pytest.mark.parametrize(
    "missing, message",
    [(np.zeros((2, 3), dtype=bool), "no True entry"),
     (np.ones((2, 2), dtype=bool), "same shape")],
)
def test_rmse_rejects_bad_masks(missing, message):
    with pytest.raises(ValueError, match=message):
        rmse(np.zeros((2, 3)), np.zeros((2, 3)), missing)


def test_rmse_rejects_non_boolean_mask_and_nan_at_missing():
    with pytest.raises(TypeError, match="boolean"):
        rmse(np.zeros((2, 2)), np.zeros((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="X_imputed has NaN"):
        rmse(np.zeros((2, 2)), np.full((2, 2), np.nan), np.ones((2, 2), dtype=bool))


# ------------------------------------------------------------- feature statistics, FID
def _reference_fid(A, B):
    """FID of raw features with an eigendecomposition-based trace of the square root."""
    mu_a, mu_b = A.mean(0), B.mean(0)
    s_a, s_b = np.cov(A, rowvar=False), np.cov(B, rowvar=False)
    w, v = np.linalg.eigh(s_a)
    root_a = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    inner = np.linalg.eigvalsh(root_a @ s_b @ root_a)
    return (np.sum((mu_a - mu_b) ** 2) + np.trace(s_a) + np.trace(s_b)
            - 2 * np.sum(np.sqrt(np.clip(inner, 0, None))))


@pytest.mark.parametrize("batch_size", [1 + 6, 1000])
def test_feature_statistics_streams_exact_mean_and_covariance(batch_size):
    rng = np.random.default_rng(1)
    X = rng.normal(3.0, 2.0, size=(103, 5))
    statistics = feature_statistics(X, features=lambda batch: batch, batch_size=batch_size)
    np.testing.assert_allclose(statistics.mu, X.mean(0), rtol=1e-12)
    np.testing.assert_allclose(statistics.sigma, np.cov(X, rowvar=False), rtol=1e-10)


def test_fid_matches_independent_formula():
    rng = np.random.default_rng(2)
    A = rng.normal(size=(300, 6))
    B = rng.normal(0.5, 1.5, size=(200, 6)) @ rng.normal(size=(6, 6))
    expected = _reference_fid(A, B)
    assert fid(A, B, features=lambda batch: batch) == pytest.approx(expected, rel=1e-8)


def test_fid_works_when_scipy_sqrtm_has_no_disp(monkeypatch):
    # SciPy 1.18 removed sqrtm's ``disp``, which pytorch-fid 0.3 passes (seen on a GPU
    # machine): simulate that SciPy and expect the same distance.
    import scipy.linalg

    sqrtm = scipy.linalg.sqrtm

    def sqrtm_without_disp(A, blocksize=64):
        return sqrtm(A)

    rng = np.random.default_rng(3)
    A = rng.normal(size=(300, 6))
    B = rng.normal(0.5, 1.5, size=(200, 6)) @ rng.normal(size=(6, 6))
    expected = _reference_fid(A, B)
    monkeypatch.setattr(scipy.linalg, "sqrtm", sqrtm_without_disp)
    assert fid(A, B, features=lambda batch: batch) == pytest.approx(expected, rel=1e-8)


def test_fid_of_a_set_with_itself_is_zero_and_grows_with_noise(mnist_sample):
    X = mnist_sample[0][:1000]
    reference = feature_statistics(X)
    assert fid(reference, X) == pytest.approx(0.0, abs=1e-6)
    rng = np.random.default_rng(0)
    noise = rng.normal(size=X.shape)
    distances = [fid(reference, np.clip(X + level * noise, 0, 1))
                 for level in (0.05, 0.1, 0.2, 0.4)]
    assert distances[0] > 0.01
    assert all(a < b for a, b in zip(distances, distances[1:])), distances


def test_fid_is_symmetric_and_accepts_statistics_for_either_side(mnist_sample):
    X = mnist_sample[0]
    A, B = X[:400], X[400:1000] * 0.8
    forward, backward = fid(A, B, batch_size=64), fid(B, A)
    assert forward > 0.1
    assert forward == pytest.approx(backward, rel=1e-6)
    assert fid(feature_statistics(A), B) == pytest.approx(forward, rel=1e-6)
    assert fid(A, feature_statistics(B)) == pytest.approx(forward, rel=1e-6)


def test_fid_with_fitted_transformer_and_torch_module():
    X = load_digits_01()[0]
    pca = PCA(n_components=4, random_state=0).fit(X)
    A, B = X[:600], X[600:1200]
    expected = _reference_fid(pca.transform(A), pca.transform(B))
    assert fid(A, B, features=pca) == pytest.approx(expected, rel=1e-8)
    module = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 3))
    weight = module[1].weight.detach().numpy().astype(np.float64)
    bias = module[1].bias.detach().numpy().astype(np.float64)
    expected = _reference_fid(A @ weight.T + bias, B @ weight.T + bias)
    assert fid(A, B, features=module) == pytest.approx(expected, rel=1e-3)


def test_fid_rejects_bad_inputs():
    X = np.random.default_rng(0).random((10, 784))
    with pytest.raises(ValueError, match="28x28"):
        fid(X[:, :64], X[:, :64])
    with pytest.raises(ValueError, match="features must be"):
        fid(X, X, features="vgg")
    with pytest.raises(TypeError, match="features must be"):
        fid(X, X, features=3)
    with pytest.raises(ValueError, match="NaN"):
        fid(np.where(X > 0.5, np.nan, X), X)
    with pytest.raises(ValueError, match="different sizes"):
        fid(X, X[:, :5], features=lambda batch: batch[:, :3] if batch.shape[1] == 5 else batch)
    with pytest.raises(ValueError, match="shape"):
        fid(X, X, features=lambda batch: batch[:2])


def test_frechet_distance_of_identical_gaussians_is_zero():
    sigma = np.diag([1.0, 2.0, 3.0])
    assert frechet_distance((np.ones(3), sigma), FeatureStatistics(np.ones(3), sigma)) == 0.0


# ------------------------------------------------------------------ bundled LeNet
def test_bundled_lenet_weights_reach_recorded_accuracy(mnist_test):
    info = mnist_lenet_info()
    X, y = mnist_test
    model = load_mnist_lenet()
    images = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        accuracy = (model(normalize(images)).argmax(1).numpy() == y).mean()
        raw_accuracy = (model(images).argmax(1).numpy() == y).mean()
    assert len(y) == info["test_digits"] == 10_000
    assert accuracy == pytest.approx(info["test_accuracy"], abs=2e-4)
    assert raw_accuracy == pytest.approx(info["test_accuracy_raw_inputs"], abs=2e-4)
    assert accuracy >= 0.97


def test_lenet_features_are_fc1_before_relu(mnist_sample):
    model = load_mnist_lenet()
    images = torch.as_tensor(mnist_sample[0][:50], dtype=torch.float32).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        features = model.features(images)
    assert features.shape == (50, 50)
    assert (features < 0).any()  # before the ReLU
    statistics = feature_statistics(mnist_sample[0][:50])  # raw [0, 1] inputs, as MisGAN
    np.testing.assert_allclose(statistics.mu, features.numpy().mean(0), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- Inception
@pytest.fixture(scope="module")
def stand_in_inception_weights(tmp_path_factory):
    """Random weights with the shapes of pytorch-fid's FID InceptionV3."""
    from pytorch_fid import inception as fid_inception

    net = fid_inception._inception_v3(num_classes=1008, aux_logits=False, weights=None)
    net.Mixed_5b = fid_inception.FIDInceptionA(192, pool_features=32)
    net.Mixed_5c = fid_inception.FIDInceptionA(256, pool_features=64)
    net.Mixed_5d = fid_inception.FIDInceptionA(288, pool_features=64)
    net.Mixed_6b = fid_inception.FIDInceptionC(768, channels_7x7=128)
    net.Mixed_6c = fid_inception.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6d = fid_inception.FIDInceptionC(768, channels_7x7=160)
    net.Mixed_6e = fid_inception.FIDInceptionC(768, channels_7x7=192)
    net.Mixed_7b = fid_inception.FIDInceptionE_1(1280)
    net.Mixed_7c = fid_inception.FIDInceptionE_2(2048)
    generator = torch.Generator().manual_seed(0)
    state = {name: (torch.randn(value.shape, generator=generator) * 0.05
                    if value.is_floating_point() else value)
             for name, value in net.state_dict().items()}
    for name in state:
        if name.endswith("running_var"):
            state[name] = torch.ones_like(state[name])
    path = tmp_path_factory.mktemp("inception") / "pt_inception-2015-12-05-6726825d.pth"
    torch.save(state, path)
    return path


@pytest.fixture
def empty_hub_dir(tmp_path):
    previous = torch.hub.get_dir()
    torch.hub.set_dir(str(tmp_path / "hub"))
    yield tmp_path / "hub"
    torch.hub.set_dir(previous)


def test_inception_without_weights_offline_names_file_and_place(empty_hub_dir, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "download_url_to_file", offline)
    X = np.random.default_rng(0).random((4, 784))
    with pytest.raises(FileNotFoundError) as error:
        fid(X, X, features="inception")
    message = str(error.value)
    assert "pt_inception-2015-12-05-6726825d.pth" in message
    assert str(empty_hub_dir / "checkpoints") in message
    assert "download failed" in message
    with pytest.raises(FileNotFoundError, match="download=False"):
        fid(X, X, features=InceptionFeatures(download=False))
    with pytest.raises(FileNotFoundError, match="given path does not exist"):
        fid(X, X, features=InceptionFeatures(weights=empty_hub_dir / "nothing.pth"))


def test_inception_reads_weights_from_the_hub_cache(empty_hub_dir, stand_in_inception_weights):
    checkpoints = empty_hub_dir / "checkpoints"
    checkpoints.mkdir(parents=True)
    (checkpoints / stand_in_inception_weights.name).symlink_to(stand_in_inception_weights)
    features = InceptionFeatures(download=False)
    expected = torch.load(stand_in_inception_weights, weights_only=True)
    torch.testing.assert_close(features._model("cpu").blocks[0][0].conv.weight,
                               expected["Conv2d_1a_3x3.conv.weight"])
    # the standard 2048-dim pool features, through the whole network
    X = np.random.default_rng(0).random((2, 784))
    statistics = feature_statistics(X, features=features)
    assert statistics.mu.shape == (2048,) and np.isfinite(statistics.sigma).all()


@pytest.mark.filterwarnings("ignore:Matrix is singular")
def test_inception_pipeline_with_stand_in_weights(stand_in_inception_weights):
    rng = np.random.default_rng(0)
    X = rng.random((6, 28 * 20))
    features = InceptionFeatures(weights=stand_in_inception_weights, dims=192)
    statistics = feature_statistics(X, features=features, image_shape=(28, 20), batch_size=4)
    assert statistics.mu.shape == (192,) and statistics.sigma.shape == (192, 192)
    assert fid(statistics, X, features=features, image_shape=(28, 20)) == pytest.approx(0, abs=1e-4)
    assert fid(X, np.clip(X + 0.5 * rng.random(X.shape), 0, 1), features=features,
               image_shape=(28, 20)) > 0
    # the loaded network is reused by the instance and left out of its pickle
    assert features._model("cpu") is features._model("cpu")
    assert "_loaded" not in pickle.loads(pickle.dumps(features)).__dict__
    with pytest.raises(ValueError, match="dims must be one of"):
        feature_statistics(X, features=InceptionFeatures(stand_in_inception_weights, dims=10),
                           image_shape=(28, 20))


# ------------------------------------------------------------ downstream accuracy
def test_downstream_accuracy_is_logistic_regression_accuracy():
    X, y = load_digits_01()
    expected = LogisticRegression(max_iter=1000).fit(X[:1000], y[:1000]).score(X[1000:], y[1000:])
    accuracy = downstream_accuracy(X[:1000], y[:1000], X[1000:], y[1000:])
    assert accuracy == pytest.approx(expected)
    assert accuracy > 0.9


class _HiddenByPCA:
    """A stand-in "RBM": hidden features = PCA of the zero-filled data."""

    def __init__(self, X):
        self.pca = PCA(n_components=20, random_state=0).fit(np.nan_to_num(X))

    def transform_hidden(self, X):
        return self.pca.transform(np.nan_to_num(X))

    def transform(self, X):
        return np.nan_to_num(X)


def test_hidden_accuracy_uses_transform_hidden_also_in_a_pipeline():
    X, y = load_digits_01()
    X = np.where(np.random.default_rng(0).random(X.shape) < 0.3, np.nan, X)
    rbm = _HiddenByPCA(X[:1000])
    H = rbm.transform_hidden(X)
    expected = downstream_accuracy(H[:1000], y[:1000], H[1000:], y[1000:])
    assert hidden_accuracy(rbm, X[:1000], y[:1000], X[1000:], y[1000:]) == pytest.approx(expected)
    scaler = FunctionTransformer(lambda X: 1 - X)
    pipeline = Pipeline([("flip", scaler), ("rbm", rbm)])
    H = rbm.transform_hidden(1 - X)
    expected = downstream_accuracy(H[:1000], y[:1000], H[1000:], y[1000:])
    assert hidden_accuracy(pipeline, X[:1000], y[:1000], X[1000:], y[1000:]) == pytest.approx(
        expected)
    with pytest.raises(TypeError, match="transform_hidden"):
        hidden_accuracy(PCA(), X, y, X, y)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_fid_on_cuda_matches_cpu(mnist_sample):
    A, B = mnist_sample[0][:500], mnist_sample[0][2500:3000]
    assert fid(A, B, device="cuda") == pytest.approx(fid(A, B), rel=1e-3)
