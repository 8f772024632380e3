"""The perception knob on real MNIST: its curves, the posterior mean, multiple
imputation (coverage, downstream accuracy) and GridSearchCV over the knob.

Data and models as ``benchmarks/knob_train.py`` (8,000 / 2,000 of the MNIST test
digits, I.M. and P.M. at 0.6, training masks seeded 1, test masks seeded 2); the
models are read from ``--models`` (joblib files that script writes).  FID: the
bundled MNIST LeNet against the 2,000 clean held-out digits.  Every table goes to
``--out`` (markdown) and the curve points to ``--out/results.csv`` in the benchmark's
format, drawn by the benchmark's own ``pd_curve.png`` function.

Parts (``--parts``):

``curve``
    RMSE (and RMSE / Mean imputer's) and FID of LM-RBM and RBM [5] at the knob values
    ``--levels``, and of Mean, diffusion (kernel 2, 200 steps) and MisGAN.  The ends
    are ``transform`` at ``perception=0`` and ``1``; the levels between are their
    interpolation, checked once against ``transform`` itself.
``posterior-mean``
    The mean-field pass against the Rao-Blackwellised average of a clamped Gibbs
    chain (``GIBBS_BURN_IN`` steps, then ``--mean-steps`` steps), same model.
``coverage``
    ``--draws`` imputations of the first ``--coverage-rows`` held-out digits from each
    RBM (0/1 Gibbs draws, and the draws' hidden layers shown through
    ``P(v = 1 | h)``), MisGAN (``sample_imputations``) and scikit-learn's
    ``IterativeImputer(sample_posterior=True)`` (budget: fit on 2,000 masked training
    digits, ``n_nearest_features=20``, ``max_iter=3``, values clipped to [0, 1]; the
    draws are repeated ``transform`` calls of one fitted imputer, so, like the RBMs'
    and MisGAN's, they hold the fitted parameters fixed).  Coverage of the 90 %
    intervals (5 % / 95 % quantiles) and their mean width; downstream accuracy of a
    logistic regression fit on the 8,000 clean training digits: on the single
    (default) imputation, on one draw, and on the average of the predicted
    probabilities over the draws (argmax).
``gridsearch``
    ``GridSearchCV`` of ``LMRBMImputer`` over ``perception`` in ``--levels`` on the
    first 2,000 masked I.M. 0.6 training digits, two folds, scoring
    ``MaskedRMSEScorer`` and ``FIDScorer`` (LeNet, reference: 2,000 clean training
    digits), refit on each; budget: ``--search-epochs`` epochs at learning rate 3e-3, or
    with ``--preset NAME`` the LM-RBM settings of that benchmark preset.

    OMP_NUM_THREADS=1 python benchmarks/perception_knob.py --parts curve posterior-mean
"""

import argparse
import json
import os
import sys
import time

import joblib
import numpy as np
import pandas as pd
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from knob_train import RATE, load_split, masks  # noqa: E402

from skrbm_impute import DiffusionInpaintImputer, LMRBMImputer, MeanImputer  # noqa: E402
from skrbm_impute.experiment._methods import make_imputer  # noqa: E402
from skrbm_impute.experiment._pd_curve import curve_metric, plot_pd_curve  # noqa: E402
from skrbm_impute.experiment._presets import load_preset  # noqa: E402
from skrbm_impute._numerics.rbm_posterior import (  # noqa: E402
    GIBBS_BURN_IN, GIBBS_THINNING, clamped_chain)
from skrbm_impute.masks import apply_mask  # noqa: E402
from skrbm_impute.metrics import (  # noqa: E402
    FIDScorer, MaskedRMSEScorer, feature_statistics, fid, interval_coverage, rmse)
from skrbm_impute.utils._torch import make_generator  # noqa: E402

LABELS = {"lmrbm": "LM-RBM", "rbm": "RBM [5]", "misgan": "MisGAN", "mean": "Mean",
          "diffusion": "Inpaint", "iterative": "IterativeImputer(sample_posterior)"}


def lenet_fid(reference, X):
    return fid(reference, X, features="mnist-lenet", image_shape=(28, 28), batch_size=1000)


def load_model(folder, name, mechanism):
    path = os.path.join(folder, f"{name}_{mechanism}_{RATE}.joblib")
    if not os.path.exists(path):
        return None
    model = joblib.load(path)
    if name in ("lmrbm", "rbm") and not hasattr(model, "perception"):
        model.perception = None  # pickled before the knob existed
    return model


class Context:
    def __init__(self, args):
        self.args = args
        self.X_train, self.y_train, self.X_test, self.y_test = load_split()
        self.reference = feature_statistics(self.X_test, features="mnist-lenet",
                                            image_shape=(28, 28), batch_size=1000)
        self.masks = {m: masks(m) for m in args.mechanisms}

    def test(self, mechanism):
        test_mask = self.masks[mechanism][1]
        return apply_mask(self.X_test, test_mask), test_mask

    def train(self, mechanism):
        train_mask = self.masks[mechanism][0]
        return apply_mask(self.X_train, train_mask), train_mask


def write(args, name, text):
    stem, ext = os.path.splitext(name)
    methods = "" if args.methods == ALL_METHODS else "_" + "_".join(args.methods)
    path = os.path.join(args.out, f"{stem}_{'_'.join(args.mechanisms)}{methods}{ext}")
    with open(path, "w") as f:
        f.write(text)
    print(text, flush=True)


# ------------------------------------------------------------------------- curve
def part_curve(ctx):
    args = ctx.args
    rows, table = [], []
    for mechanism in args.mechanisms:
        X_miss, mask = ctx.test(mechanism)
        X_train_miss, _ = ctx.train(mechanism)

        def score(method, imputed, metric_suffix=None):
            r, f = rmse(ctx.X_test, imputed, mask), lenet_fid(ctx.reference, imputed)
            names = (("rmse", "fid") if metric_suffix is None
                     else (curve_metric("rmse", metric_suffix), curve_metric("fid", metric_suffix)))
            rows.extend([(method, mechanism, RATE, 0, 0, names[0], r),
                         (method, mechanism, RATE, 0, 0, names[1], f)])
            return r, f

        mean_rmse, _ = score("mean", MeanImputer().fit(X_train_miss).transform(X_miss))
        table.append((mechanism, "Mean", "", mean_rmse, rows[-1][-1]))
        if "diffusion" in args.methods:
            r, f = score("diffusion", DiffusionInpaintImputer(kernel=2, n_iter=200)
                         .fit(X_train_miss).transform(X_miss))
            table.append((mechanism, "Inpaint", "", r, f))
        misgan = load_model(args.models, "misgan", mechanism) if "misgan" in args.methods \
            else None
        if misgan is not None:
            r, f = score("misgan", misgan.transform(X_miss))
            table.append((mechanism, "MisGAN", "", r, f))
        for name in ("rbm", "lmrbm"):
            model = load_model(args.models, name, mechanism) if name in args.methods else None
            if model is None:
                continue
            r, f = score(name, model.set_params(perception=None).transform(X_miss))
            table.append((mechanism, LABELS[name], "default (mean-field)", r, f))
            start = time.perf_counter()
            ends = {p: model.set_params(perception=p).transform(X_miss) for p in (0.0, 1.0)}
            seconds = time.perf_counter() - start
            if name == "lmrbm" and mechanism == args.mechanisms[0]:  # the shortcut is exact
                half = model.set_params(perception=0.5).transform(X_miss)
                np.testing.assert_allclose(half, 0.5 * ends[0.0] + 0.5 * ends[1.0], atol=1e-12)
            model.set_params(perception=None)
            with torch.no_grad():  # the p = 1 draw's hidden layer shown through P(v=1|h)
                probs = clamped_probabilities(
                    **gibbs_tensors(model, X_miss), n_draws=1, burn_in=GIBBS_BURN_IN,
                    thinning=GIBBS_THINNING, generator=make_generator(0, "cpu")).numpy()[0]
            probs = np.where(mask, probs, X_miss)
            r, f = rmse(ctx.X_test, probs, mask), lenet_fid(ctx.reference, probs)
            table.append((mechanism, LABELS[name], "one Gibbs draw of h, P(v=1|h) (not p=1)",
                          r, f))
            for level in args.levels:
                imputed = (1 - level) * ends[0.0] + level * ends[1.0]
                r, f = score(name, imputed, level)
                table.append((mechanism, LABELS[name], f"perception={level:g}", r, f))
            print(f"{name} {mechanism}: both ends in {seconds:.0f} s", flush=True)
    frame = pd.DataFrame(rows, columns=["method", "mechanism", "rate", "train_repeat",
                                        "test_repeat", "metric", "value"])
    csv_path = os.path.join(args.out, "results.csv")
    if os.path.exists(csv_path):  # keep the other cells' rows of an earlier run
        old = pd.read_csv(csv_path)
        redone = old["mechanism"].isin(args.mechanisms) & old["method"].isin(set(frame["method"]))
        frame = pd.concat([old[~redone], frame], ignore_index=True)
    frame.to_csv(csv_path, index=False)
    plot_pd_curve(frame, os.path.join(args.out, "pd_curve.png"),
                  methods=["mean", "diffusion", "misgan", "rbm", "lmrbm"])
    lines = ["| mechanism | method | setting | RMSE | RMSE / Mean | FID |",
             "| --- | --- | --- | --- | --- | --- |"]
    means = {m: r for m, meth, _, r, _ in table if meth == "Mean"}
    for mechanism, method, setting, r, f in table:
        lines.append(f"| {mechanism} {RATE} | {method} | {setting} | {r:.4f} | "
                     f"{r / means[mechanism]:.3f} | {f:.2f} |")
    write(args, "curve.md", "\n".join(lines) + "\n")


# ---------------------------------------------------------------- posterior mean
def gibbs_tensors(model, X_miss):
    """The fitted RBM and ``X_miss`` as the keyword tensors of ``clamped_chain``."""
    return model.set_params(device="cpu")._model_tensors(X_miss, np.isnan(X_miss))


def clamped_probabilities(*, n_draws, burn_in, thinning, generator, **tensors):
    """``P(v = 1 | h_{t-1}) = sigmoid(W h_{t-1} + b)`` at the steps whose 0/1 draws
    ``sample_imputations`` records: a draw of the hidden layer from the posterior,
    shown through its expected image.  Observed entries equal ``v_obs``."""
    observed = 1.0 - tensors["missing"]
    recorded = []
    chain = clamped_chain(**tensors, generator=generator)
    for step, (_, p_visible) in enumerate(chain, start=1):
        offset = step - burn_in
        if offset > 0 and offset % thinning == 0:
            recorded.append(tensors["v_obs"] * observed + p_visible * tensors["missing"])
            if len(recorded) == n_draws:
                return torch.stack(recorded)


def gibbs_posterior_mean(*, n_steps, burn_in, generator, **tensors):
    """Estimate of ``E_E[v_m | v_o]``: the average of ``sigmoid(W h_{t-1} + b)`` over
    ``n_steps`` consecutive steps after ``burn_in`` of the clamped chain.

    Averaging the conditional means ``P(v = 1 | h)`` rather than the 0/1 draws is the
    Rao-Blackwellised estimator: the same expectation, less variance.  Observed entries
    equal ``v_obs``."""
    draws = clamped_probabilities(n_draws=n_steps, burn_in=burn_in, thinning=1,
                                  generator=generator, **tensors)
    # The average of equal values need not round back to them: re-impose v_o.
    return torch.where(tensors["missing"].bool(), draws.mean(0), tensors["v_obs"])


def part_posterior_mean(ctx):
    args = ctx.args
    lines = ["| mechanism | model | estimate | RMSE | RMSE / Mean | FID | seconds |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    for mechanism in args.mechanisms:
        X_miss, mask = ctx.test(mechanism)
        mean_rmse = rmse(ctx.X_test, MeanImputer().fit(ctx.train(mechanism)[0])
                         .transform(X_miss), mask)
        for name in ("rbm", "lmrbm"):
            model = load_model(args.models, name, mechanism)
            if model is None:
                continue
            start = time.perf_counter()
            estimates = {"mean-field pass": model.set_params(perception=0.0).transform(X_miss)}
            seconds = {"mean-field pass": time.perf_counter() - start}
            model.set_params(perception=None)
            for steps in args.mean_steps:
                start = time.perf_counter()
                with torch.no_grad():
                    mean = gibbs_posterior_mean(
                        **gibbs_tensors(model, X_miss), n_steps=steps, burn_in=GIBBS_BURN_IN,
                        generator=make_generator(0, "cpu")).numpy()
                key = f"Gibbs average ({GIBBS_BURN_IN} burn-in + {steps} steps)"
                estimates[key] = np.where(mask, mean, X_miss)
                seconds[key] = time.perf_counter() - start
            for key, imputed in estimates.items():
                r = rmse(ctx.X_test, imputed, mask)
                lines.append(f"| {mechanism} {RATE} | {LABELS[name]} | {key} | {r:.4f} | "
                             f"{r / mean_rmse:.3f} | {lenet_fid(ctx.reference, imputed):.2f} | "
                             f"{seconds[key]:.0f} |")
    write(args, "posterior_mean.md", "\n".join(lines) + "\n")


# ------------------------------------------------------------------ coverage
def iterative_draws(ctx, mechanism, X_miss, n_draws):
    from sklearn.experimental import enable_iterative_imputer  # noqa: F401
    from sklearn.impute import IterativeImputer

    X_train_miss, _ = ctx.train(mechanism)
    imputer = IterativeImputer(sample_posterior=True, n_nearest_features=20, max_iter=3,
                               min_value=0.0, max_value=1.0, keep_empty_features=True,
                               random_state=0)
    start = time.perf_counter()
    imputer.fit(X_train_miss[:2000])
    fit_seconds = time.perf_counter() - start
    draws = np.stack([imputer.transform(X_miss) for _ in range(n_draws)])
    single = IterativeImputer(n_nearest_features=20, max_iter=3, min_value=0.0, max_value=1.0,
                              keep_empty_features=True, random_state=0)
    single_imputation = single.fit(X_train_miss[:2000]).transform(X_miss)
    print(f"IterativeImputer {mechanism}: fit {fit_seconds:.0f} s, "
          f"all {time.perf_counter() - start:.0f} s", flush=True)
    return draws, single_imputation


def part_coverage(ctx):
    from sklearn.linear_model import LogisticRegression

    args = ctx.args
    n, n_draws = args.coverage_rows, args.draws
    classifier = LogisticRegression(max_iter=300).fit(ctx.X_train, ctx.y_train)
    y = ctx.y_test[:n]
    clean_accuracy = classifier.score(ctx.X_test[:n], y)
    cov_lines = ["| mechanism | method | draws | 90% coverage | mean width |",
                 "| --- | --- | --- | --- | --- |"]
    acc_lines = [f"Classifier: LogisticRegression(max_iter=300) on the 8,000 clean training "
                 f"digits; {n} held-out digits; clean accuracy {100 * clean_accuracy:.1f} %.",
                 "",
                 "| mechanism | method | single imputation | one draw | "
                 f"average of {n_draws} draws' probabilities |",
                 "| --- | --- | --- | --- | --- |"]
    for mechanism in args.mechanisms:
        X_miss, mask = ctx.test(mechanism)
        X_miss, mask, X_true = X_miss[:n], mask[:n], ctx.X_test[:n]
        sets = {}
        for name in ("rbm", "lmrbm"):
            model = load_model(args.models, name, mechanism) if name in args.methods else None
            if model is None:
                continue
            start = time.perf_counter()
            draws = model.sample_imputations(X_miss, n_draws, random_state=0)
            print(f"{name} {mechanism}: {n_draws} draws in {time.perf_counter() - start:.0f} s",
                  flush=True)
            single = model.set_params(perception=None).transform(X_miss)
            sets[f"{LABELS[name]} (0/1 Gibbs draws)"] = (draws, single)
            with torch.no_grad():
                probs = clamped_probabilities(
                    **gibbs_tensors(model, X_miss), n_draws=n_draws, burn_in=GIBBS_BURN_IN,
                    thinning=GIBBS_THINNING, generator=make_generator(0, "cpu")).numpy()
            probs = np.where(mask[None], probs, X_miss[None])
            sets[f"{LABELS[name]} (Gibbs draws of h, shown as P(v=1|h))"] = (probs, single)
        misgan = load_model(args.models, "misgan", mechanism) if "misgan" in args.methods \
            else None
        if misgan is not None:
            sets["MisGAN"] = (misgan.sample_imputations(X_miss, n_draws, random_state=0),
                              misgan.transform(X_miss))
        if "iterative" in args.methods:
            sets[LABELS["iterative"]] = iterative_draws(ctx, mechanism, X_miss, n_draws)
        for label, (draws, single) in sets.items():
            coverage, width = interval_coverage(X_true, draws, mask, level=0.9,
                                                return_width=True)
            cov_lines.append(f"| {mechanism} {RATE} | {label} | {n_draws} | {coverage:.3f} | "
                             f"{width:.3f} |")
            proba = np.mean([classifier.predict_proba(d) for d in draws], axis=0)
            averaged = np.mean(classifier.classes_[proba.argmax(1)] == y)
            acc_lines.append(
                f"| {mechanism} {RATE} | {label} | {100 * classifier.score(single, y):.1f} | "
                f"{100 * classifier.score(draws[0], y):.1f} | {100 * averaged:.1f} |")
    write(args, "coverage.md", "\n".join(cov_lines) + "\n")
    write(args, "downstream.md", "\n".join(acc_lines) + "\n")


# ---------------------------------------------------------------- grid search
def part_gridsearch(ctx):
    from sklearn.model_selection import GridSearchCV, KFold

    args = ctx.args
    X_train_miss, _ = ctx.train("IM")
    X = X_train_miss[:2000]
    scoring = {"rmse": MaskedRMSEScorer(fraction=0.1, random_state=0),
               "fid": FIDScorer(ctx.X_train[2000:4000], features="mnist-lenet",
                                image_shape=(28, 28), batch_size=1000)}
    if args.preset is not None:  # the LM-RBM as that benchmark preset trains it
        estimator = make_imputer("lmrbm", load_preset(args.preset)["params"].get("lmrbm"),
                                 random_state=0, device="cpu")
    else:
        estimator = LMRBMImputer(n_components=512, rank=None, batch_size=128,
                                 learning_rate=3e-3, n_epochs=args.search_epochs,
                                 random_state=0)
    lines = ["| refit | selected perception | "
             + " | ".join(f"p={p:g}: -RMSE / -FID" for p in args.levels) + " | seconds |",
             "| --- | --- | " + " | ".join("---" for _ in args.levels) + " | --- |"]
    for refit in ("rmse", "fid"):
        start = time.perf_counter()
        search = GridSearchCV(estimator, {"perception": list(args.levels)}, scoring=scoring,
                              refit=refit, cv=KFold(2)).fit(X)
        results = search.cv_results_
        cells = [f"{results['mean_test_rmse'][i]:.4f} / {results['mean_test_fid'][i]:.2f}"
                 for i in range(len(args.levels))]
        lines.append(f"| {refit} | {search.best_params_['perception']:g} | "
                     + " | ".join(cells) + f" | {time.perf_counter() - start:.0f} |")
        assert search.best_estimator_.perception == search.best_params_["perception"]
    write(args, "gridsearch.md", "\n".join(lines) + "\n")


def part_tables(ctx):
    """Redraw pd_curve.png and write curve.md from results.csv (all runs together)."""
    args = ctx.args
    frame = pd.read_csv(os.path.join(args.out, "results.csv"))
    plot_pd_curve(frame, os.path.join(args.out, "pd_curve.png"),
                  methods=["mean", "diffusion", "misgan", "rbm", "lmrbm"])
    values = frame.set_index(["mechanism", "method", "metric"])["value"]
    lines = ["| mechanism | method | setting | RMSE | RMSE / Mean | FID |",
             "| --- | --- | --- | --- | --- | --- |"]
    for mechanism in args.mechanisms:
        mean_rmse = values[(mechanism, "mean", "rmse")]
        for method in ["mean", "diffusion", "misgan", "rbm", "lmrbm"]:
            if (mechanism, method, "rmse") not in values.index:
                continue
            settings = [("", "rmse", "fid")] + [
                (f"perception={p:g}", curve_metric("rmse", p), curve_metric("fid", p))
                for p in args.levels if (mechanism, method, curve_metric("rmse", p)) in values.index]
            for setting, r_key, f_key in settings:
                r, f = values[(mechanism, method, r_key)], values[(mechanism, method, f_key)]
                lines.append(f"| {mechanism} {RATE} | {LABELS[method]} | {setting} | {r:.4f} | "
                             f"{r / mean_rmse:.3f} | {f:.2f} |")
    write(args, "curve_all.md", "\n".join(lines) + "\n")


ALL_METHODS = ["mean", "diffusion", "misgan", "rbm", "lmrbm", "iterative"]
PARTS = {"curve": part_curve, "posterior-mean": part_posterior_mean,
         "coverage": part_coverage, "gridsearch": part_gridsearch, "tables": part_tables}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parts", nargs="+", choices=list(PARTS), default=list(PARTS))
    parser.add_argument("--models", default="/tmp/knob_models")
    parser.add_argument("--out", default="benchmarks/results/knob")
    parser.add_argument("--mechanisms", nargs="+", default=["IM", "PM"])
    parser.add_argument("--levels", nargs="+", type=float, default=[0, 0.25, 0.5, 0.75, 1])
    parser.add_argument("--mean-steps", nargs="+", type=int, default=[100])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--coverage-rows", type=int, default=1000)
    parser.add_argument("--search-epochs", type=int, default=40)
    parser.add_argument("--preset", default=None,
                        help="gridsearch: the LM-RBM with this benchmark preset's settings "
                             "(instead of --search-epochs epochs at learning rate 3e-3)")
    parser.add_argument("--methods", nargs="+", default=ALL_METHODS, choices=ALL_METHODS)
    args = parser.parse_args()
    torch.set_num_threads(1)
    os.makedirs(args.out, exist_ok=True)
    ctx = Context(args)
    with open(os.path.join(args.out, f"args_{'_'.join(args.parts)}.json"), "w") as f:
        json.dump(vars(args), f, indent=1)
    for part in args.parts:
        start = time.perf_counter()
        PARTS[part](ctx)
        print(f"[{part}] {time.perf_counter() - start:.0f} s", flush=True)


if __name__ == "__main__":
    main()
