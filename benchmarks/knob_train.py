"""Train the models the perception-knob study (``perception_knob.py``) evaluates; saved with joblib.

Real MNIST: the first 8,000 of the 10,000 test digits train, the last 2,000 are held
out.  Masks: I.M. and P.M. at rate 0.6 (``skrbm_impute.masks.make_mask``), training
masks seeded 1, test masks seeded 2.  Models per mechanism: LM-RBM and RBM [5] (full W,
512 hidden units, batch 128, learning rate 1e-3, ``--rbm-epochs`` epochs, seed 0) and
MisGAN ("fc", ``--misgan-epochs`` epochs, batch 64, seed 0).  One thread.

    OMP_NUM_THREADS=1 python benchmarks/knob_train.py --out /tmp/knob_models
"""

import argparse
import os
import time

import joblib
import torch

from skrbm_impute import LMRBMImputer, MaskedRBMImputer, MisGANImputer
from skrbm_impute.experiment._methods import make_imputer
from skrbm_impute.experiment._presets import load_preset
from skrbm_impute.datasets import load_mnist
from skrbm_impute.masks import apply_mask, make_mask

MECHANISMS = ("IM", "PM")
RATE = 0.6


def load_split(data_home=None):
    X, y = load_mnist(subset="test", data_home=data_home)
    return X[:8000], y[:8000], X[8000:], y[8000:]


def masks(mechanism, rate=RATE):
    return (make_mask(mechanism, 8000, (28, 28), rate, random_state=1),
            make_mask(mechanism, 2000, (28, 28), rate, random_state=2))


def rbm_settings(n_epochs):
    return dict(n_components=512, rank=None, batch_size=128, learning_rate=1e-3,
                n_epochs=n_epochs, random_state=0)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", default="/tmp/knob_models")
    parser.add_argument("--rbm-epochs", type=int, default=150)
    parser.add_argument("--misgan-epochs", type=int, default=30)
    parser.add_argument("--models", nargs="+", default=["lmrbm", "rbm", "misgan"])
    parser.add_argument("--mechanisms", nargs="+", default=list(MECHANISMS))
    parser.add_argument("--preset", default=None,
                        help="take every model's settings from this benchmark preset")
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    X_train, _, _, _ = load_split()
    preset_params = load_preset(args.preset)["params"] if args.preset is not None else None
    for name in args.models:
        for mechanism in args.mechanisms:
            path = os.path.join(args.out, f"{name}_{mechanism}_{RATE}.joblib")
            if os.path.exists(path):
                print("exists", path, flush=True)
                continue
            train_mask, _ = masks(mechanism)
            X = apply_mask(X_train, train_mask)
            if preset_params is not None:
                model = make_imputer(name, preset_params.get(name), random_state=0,
                                     device="cpu", image_shape=(28, 28))
            elif name == "misgan":
                model = MisGANImputer(architecture="fc", n_epochs=args.misgan_epochs,
                                      batch_size=64, random_state=0)
            else:
                cls = LMRBMImputer if name == "lmrbm" else MaskedRBMImputer
                model = cls(**rbm_settings(args.rbm_epochs))
            start = time.perf_counter()
            model.fit(X)
            seconds = time.perf_counter() - start
            joblib.dump(model, path)
            print(f"{name} {mechanism}: {seconds:.0f} s -> {path}; {model!r}", flush=True)


if __name__ == "__main__":
    main()
