"""MisGAN's imputation quality on real MNIST against the number of batches trained.

The protocol of ``rbm_study.py``: the first 8,000 of the 10,000 MNIST test digits
(``$SKRBM_IMPUTE_DATA`` or ``--data-home``) train under an independent-missing
(I.M.) mask at ``--rate`` (``make_mask`` seed 1), the last 2,000 are imputed under
another independent mask (seed 2); the Mean imputer is scored on the same masks.
``MisGANImputer(architecture="fc", random_state=0)`` trains ONE run of
``max(--budgets)`` batches, and at each budget in ``--budgets`` the imputer
network is scored there, through the public ``transform`` of an estimator fitted
with the same seed whose imputer weights are replaced by the checkpoint's: RMSE (the paper's
per-image RMSE over the missing pixels), RMSE / Mean and FID (bundled MNIST LeNet,
``skrbm_impute.metrics.fid``) of the 2,000 imputed digits against the clean ones.

One run with checkpoints measures the same thing as separate fits of each budget
with the same seed: batch order and noise come from one seeded generator consumed
batch by batch, and Adam has no schedule that depends on the total budget.
``--verify K`` checks it, by a separate ``fit(max_iter=K)`` whose imputation must
equal the checkpoint at K bit for bit (K must be in ``--budgets``).

``--cost`` instead times the batches of both architectures (median CPU seconds per
batch of 64, one thread).  ``train_cpu_s`` is the process CPU time of the training up to that checkpoint (one
torch thread; on a shared machine wall time says little).

    OMP_NUM_THREADS=1 nice -n 5 python benchmarks/misgan_budget.py --rate 0.6 \\
        --budgets 250 500 1000 2000 4000 8000 --verify 250 \\
        --csv benchmarks/results/misgan_budget/misgan_budget.csv
    python benchmarks/misgan_budget.py --summarize benchmarks/results/misgan_budget/misgan_budget.csv
"""

import argparse
import time

import numpy as np
import torch

from _common import add_summary_options, append_row, emit_table
from skrbm_impute import MeanImputer, MisGANImputer
from skrbm_impute.datasets import load_mnist
from skrbm_impute.masks import apply_mask, make_mask
from skrbm_impute.metrics import feature_statistics, fid, rmse


class CheckpointedMisGAN(MisGANImputer):
    """Calls ``self.score_checkpoint(imputer_weights, train_cpu_s)`` at chosen batch counts."""

    def _after_batch(self, networks):
        if self.n_iter_ in self.checkpoint_budgets:
            start = time.process_time()
            train_cpu = start - self.train_start - self.scoring_cpu
            self.score_checkpoint(networks["imputer"].state_dict(), train_cpu)
            self.scoring_cpu += time.process_time() - start


class TimedMisGAN(MisGANImputer):
    """Records the process CPU time of every training batch."""

    def _after_batch(self, networks):
        now = time.process_time()
        self.batch_cpu.append(now - self.last)
        self.last = now


def cost(args):
    """Median CPU seconds per batch of 64 MNIST digits, per architecture (first batch left out)."""
    X, _ = load_mnist(subset="test", data_home=args.data_home)
    train = apply_mask(X[:8000], make_mask("IM", 8000, (28, 28), args.rate, random_state=1))
    for architecture, n_batches in (("fc", 40), ("conv", 8)):
        estimator = TimedMisGAN(architecture=architecture, max_iter=n_batches, random_state=0)
        estimator.batch_cpu, estimator.last = [], time.process_time()
        estimator.fit(train)
        per_batch = float(np.median(estimator.batch_cpu[1:]))
        print(f"{architecture}: {per_batch:.4f} CPU-s per batch (median of "
              f"{n_batches - 1} batches after the first)", flush=True)


def run(args):
    X, _ = load_mnist(subset="test", data_home=args.data_home)
    X_train, X_test = X[:8000], X[8000:]
    reference = feature_statistics(X_test)
    train_mask = make_mask("IM", len(X_train), (28, 28), args.rate, random_state=1)
    test_mask = make_mask("IM", len(X_test), (28, 28), args.rate, random_state=2)
    train, test = apply_mask(X_train, train_mask), apply_mask(X_test, test_mask)
    mean_imputed = MeanImputer().fit(train).transform(test)
    mean_rmse = rmse(X_test, mean_imputed, test_mask)
    base = dict(rate=args.rate, n_train=len(X_train), batch_size=64)
    row = dict(base, model="mean", batches=0, rmse=mean_rmse, ratio=1.0,
               fid=fid(reference, mean_imputed), train_cpu_s=0.0)
    print(row, flush=True)
    append_row(args.csv, row)

    params = dict(architecture="fc", random_state=0)
    # A fitted estimator with the same seed scores every checkpoint through the public
    # transform: its imputer's weights are replaced by the checkpoint's.
    scorer = MisGANImputer(max_iter=1, **params).fit(train)

    def score_checkpoint(weights, train_cpu):
        scorer.networks_["imputer"].load_state_dict(weights)
        imputed = scorer.transform(test)
        error = rmse(X_test, imputed, test_mask)
        row = dict(base, model="misgan-fc", batches=estimator.n_iter_, rmse=error,
                   ratio=error / mean_rmse, fid=fid(reference, imputed),
                   train_cpu_s=round(train_cpu, 1))
        print(row, flush=True)
        append_row(args.csv, row)
        if estimator.n_iter_ == args.verify:
            separate = MisGANImputer(max_iter=args.verify, **params).fit(train)
            same = np.array_equal(separate.transform(test), imputed)
            print(f"fit(max_iter={args.verify}) equals the checkpoint at {args.verify}: "
                  f"{same}", flush=True)
            if not same:
                raise SystemExit("checkpoint and separate fit differ")

    estimator = CheckpointedMisGAN(max_iter=max(args.budgets), **params)
    estimator.checkpoint_budgets = set(args.budgets)
    estimator.score_checkpoint = score_checkpoint
    estimator.scoring_cpu = 0.0
    estimator.train_start = time.process_time()
    estimator.fit(train)


def summarize(paths, markdown):
    import pandas as pd

    table = pd.concat([pd.read_csv(path) for path in paths])
    # a resumed run appends its Mean row again (same masks, same value)
    table = table.drop_duplicates(["rate", "model", "batches"])
    rows = ["| I.M. rate | model | batches | epochs of 8,000 | RMSE | RMSE/Mean | FID | "
            "train CPU s |", "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in table.sort_values(["rate", "batches"]).itertuples():
        epochs = f"{r.batches / (r.n_train // r.batch_size):.0f}" if r.batches else ""
        rows.append(f"| {r.rate} | {r.model} | {r.batches} | {epochs} | {r.rmse:.4f} | "
                    f"{r.ratio:.3f} | {r.fid:.1f} | {r.train_cpu_s:.0f} |")
    emit_table(rows, markdown)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-home", default=None)
    parser.add_argument("--rate", type=float, default=0.6)
    parser.add_argument("--budgets", type=int, nargs="+",
                        default=[250, 500, 1000, 2000, 4000, 8000])
    parser.add_argument("--verify", type=int, default=None,
                        help="also fit(max_iter=K) separately and compare (K in --budgets)")
    parser.add_argument("--csv", default="benchmarks/results/misgan_budget/misgan_budget.csv")
    parser.add_argument("--cost", action="store_true",
                        help="only time the batches of both architectures")
    add_summary_options(parser)
    args = parser.parse_args()
    if args.summarize:
        summarize(args.summarize, args.markdown)
    else:
        torch.set_num_threads(1)
        cost(args) if args.cost else run(args)


if __name__ == "__main__":
    main()
