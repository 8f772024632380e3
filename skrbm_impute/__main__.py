"""The ``skrbm-impute`` command (also ``python -m skrbm_impute``).

Subcommands: ``benchmark`` (the paper's study; no argument runs the quick preset),
``impute`` (fill the NaN of a .npy/.csv file), ``plot`` (redraw the figures of a
results folder) and ``presets`` (list or print the shipped preset files).
"""

import argparse
import contextlib
import os
import sys
from pathlib import Path

import numpy as np


def _csv_list(text):
    return [item.strip() for item in text.split(",") if item.strip()]


def _rates(text):
    try:
        return [float(item) for item in _csv_list(text)]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"rates must be numbers separated by commas; got {text!r}."
        )


def _integer_type(accept, description):
    """An argparse ``type`` for an integer ``accept`` approves, refused as not ``description``."""
    def parse(text):
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not accept(value):
            raise argparse.ArgumentTypeError(f"must be {description}; got {text!r}.")
        return value

    return parse


_positive_int = _integer_type(lambda value: value >= 1, "a positive integer")
_non_negative_int = _integer_type(lambda value: value >= 0, "a non-negative integer")
_non_zero_int = _integer_type(lambda value: value != 0, "a non-zero integer (-1: all cores)")


def _image_shape(text):
    parts = text.lower().replace(",", "x").split("x")
    try:
        height, width = (int(p) for p in parts)
    except ValueError:
        raise argparse.ArgumentTypeError(f"image shape must look like 28x28; got {text!r}.")
    return [height, width]


def _add_preset_options(parser):
    parser.add_argument("--preset", default="quick",
                        help="quick (default), cpu, paper, or a .toml/.json preset file. "
                             "Presets are trusted code: an 'estimator' or 'fid_features' "
                             "entry imports the module it names")
    parser.add_argument("--set", dest="assignments", action="append", default=[],
                        metavar="KEY=VALUE",
                        help="override one preset setting, e.g. params.lmrbm.n_epochs=5 "
                             "(repeatable)")
    parser.add_argument("--image-shape", type=_image_shape, help="image height x width, e.g. 28x28")
    parser.add_argument("--device", help="cpu, cuda or auto (models and FID network)")
    parser.add_argument("--seed", type=_non_negative_int, help="seed of masks, splits and models")
    parser.add_argument("--verbose", action="store_true", default=None,
                        help="show the estimators' own progress bars (epochs)")
    parser.add_argument("--threads", type=_positive_int,
                        help="torch/OpenMP threads per process (1 avoids oversubscribing a "
                             "busy machine; default: torch's own choice)")


class _DefaultsFormatter(argparse.HelpFormatter):
    """Show each option's default in its help.

    Options left at ``None`` that a preset sets say so; store-true flags (off) and
    empty lists get no suffix, nor does help that already names its default.
    """

    def _get_help_string(self, action):
        text = action.help or ""
        if not action.option_strings or "default" in text:
            return text
        if action.default is None and action.dest in _BENCHMARK_OPTIONS:
            return text + " (default: the preset's)"
        if action.default not in (None, False, [], argparse.SUPPRESS):
            return text + " (default: %(default)s)"
        return text
TRUST_NOTE = (
    "Security: presets (and --set) are trusted code -- 'estimator = \"module:Class\"' and "
    "'fid_features = \"module:callable\"' import the module they name (only scikit-learn "
    "estimator classes and non-builtin feature callables are then accepted). --model "
    "files are pickles (joblib): loading one can run any code, so load only files you "
    "made or trust."
)

#: Tokens read as missing in a .csv: pandas.read_csv's default na_values, so a file
#: reads the same here as with pandas.  Any other token that is not a number is an error.
CSV_MISSING_TOKENS = frozenset({
    "", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND",
    "1.#QNAN", "<NA>", "N/A", "NA", "NULL", "NaN", "None", "n/a", "nan", "null",
})


def build_parser():
    from ._version import __version__

    parser = argparse.ArgumentParser(
        prog="skrbm-impute",
        description="RBM imputers and the perception-distortion benchmark of Cannella et al.",
        formatter_class=_DefaultsFormatter,
        epilog=TRUST_NOTE,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")

    bench = sub.add_parser(
        "benchmark", help="run (or resume) the benchmark",
        description="methods x mechanisms x rates x repeats -> RMSE, FID, accuracy, "
                    "RBM-hidden accuracy. Finished cells in --out are skipped.")
    _add_preset_options(bench)
    bench.add_argument("--out", default="skrbm-impute-results", help="output folder")
    bench.add_argument("--dataset",
                       help="mnist-sample (offline), mnist, mnist-test, digits, or a "
                            ".npy/.npz file")
    bench.add_argument("--labels", help="a .npy of labels for a .npy dataset")
    bench.add_argument("--data-home", help="folder of the MNIST IDX files")
    bench.add_argument("--n-train", type=_positive_int, help="training images")
    bench.add_argument("--n-test", type=_positive_int, help="test images")
    bench.add_argument("--methods", type=_csv_list, help="e.g. mean,diffusion,misgan,rbm,lmrbm")
    bench.add_argument("--mechanisms", type=_csv_list, help="e.g. IM,SO,PM")
    bench.add_argument("--rates", type=_rates, help="missing rates, e.g. 0.3,0.6,0.9")
    bench.add_argument("--train-repeats", type=_positive_int, help="independently masked training sets")
    bench.add_argument("--test-repeats", type=_positive_int, help="masked test sets per trained model")
    bench.add_argument("--n-jobs", type=_non_zero_int, help="parallel cells (-1: all cores / all workers)")
    bench.add_argument("--backend", choices=["loky", "threading", "multiprocessing", "dask", "ray"],
                       help="joblib backend; dask/ray spread the cells over a cluster")
    bench.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler (tcp://host:8786) or Ray address; default: a "
                            "local cluster")
    bench.add_argument("--overwrite", action="store_true", help="discard earlier results in --out")
    bench.add_argument("--no-plots", action="store_true", help="skip the figures")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    impute = sub.add_parser(
        "impute", help="impute the NaN entries of a .npy or .csv file",
        description="Fit a method on the file itself (imputers learn from incomplete data) "
                    "or load a fitted model, then write the completed array.",
        epilog=TRUST_NOTE)
    impute.add_argument(
        "input",
        help=".npy (real numbers, NaN = missing; (n, H, W) images keep their shape) or "
             ".csv (comma-separated; missing = an empty field or one of pandas' "
             "na_values: NaN, nan, NA, N/A, n/a, null, NULL, None, <NA>, #N/A, ...; a "
             "first line that is not numbers is a header, kept in a .csv output)")
    impute.add_argument("output", help=".npy or .csv (not the input file; see "
                                       "--overwrite-input)")
    source = impute.add_mutually_exclusive_group()
    source.add_argument("--method", default="lmrbm",
                        help="a method of the preset (default lmrbm), settings from --preset")
    source.add_argument("--model",
                        help="a fitted imputer saved with joblib (e.g. by benchmark). A "
                             "pickle: load only files you made or trust")
    impute.add_argument("--save-model", help="save the fitted imputer here (joblib)")
    impute.add_argument("--overwrite-input", action="store_true",
                        help="allow the output to replace the input file (its NaN mask is "
                             "then lost)")
    _add_preset_options(impute)

    plot = sub.add_parser("plot", help="redraw the summary and figures from a results file")
    plot.add_argument("results", help="a results folder or its results.csv")
    plot.add_argument("--out", help="where to write the figures (default: the results folder)")

    presets = sub.add_parser("presets", help="list the shipped presets or print one to copy")
    presets.add_argument("--show", metavar="NAME", help="print this preset's file")
    for subparser in sub.choices.values():
        subparser.formatter_class = _DefaultsFormatter
    return parser


def _overrides(args, mapping):
    from .experiment._presets import parse_assignment

    overrides = [parse_assignment(text) for text in args.assignments]
    direct = {key: getattr(args, attr) for attr, key in mapping.items()
              if getattr(args, attr, None) is not None}
    return overrides + ([direct] if direct else [])


_BENCHMARK_OPTIONS = {
    "dataset": "dataset", "labels": "labels", "data_home": "data_home",
    "image_shape": "image_shape", "n_train": "n_train", "n_test": "n_test",
    "methods": "methods", "mechanisms": "mechanisms", "rates": "rates",
    "train_repeats": "n_train_repeats", "test_repeats": "n_test_repeats",
    "device": "device", "seed": "seed", "verbose": "verbose", "n_jobs": "n_jobs",
}


@contextlib.contextmanager
def joblib_backend(backend, scheduler=None, n_workers=None):
    """Run the enclosed joblib calls on ``backend``.

    ``"dask"`` connects to ``scheduler`` or starts a ``LocalCluster`` (``n_workers``
    single-threaded workers); ``"ray"`` calls ``ray.init(address=scheduler)`` and
    registers Ray's joblib backend.  Other names are joblib's own backends.
    """
    import joblib

    if backend in (None, "loky"):
        yield
        return
    if backend == "dask":
        from .utils._optional import import_optional

        distributed = import_optional("dask.distributed", "--backend dask")
        Client, LocalCluster = distributed.Client, distributed.LocalCluster

        if scheduler:
            client = Client(scheduler)
        else:
            workers = n_workers if n_workers and n_workers > 0 else None
            client = Client(LocalCluster(n_workers=workers, threads_per_worker=1,
                                         processes=True, dashboard_address=None))
        try:
            with joblib.parallel_config(backend="dask"):
                yield
        finally:
            cluster = client.cluster
            client.close()
            if cluster is not None and not scheduler:
                cluster.close()
        return
    if backend == "ray":
        from .utils._optional import import_optional

        ray = import_optional("ray", "--backend ray")
        register_ray = import_optional("ray.util.joblib", "--backend ray").register_ray

        register_ray()
        ray.init(address=scheduler, ignore_reinit_error=True)
        with joblib.parallel_config(backend="ray"):
            yield
        return
    with joblib.parallel_config(backend=backend):
        yield


def _benchmark(args):
    from .experiment import run_benchmark

    overrides = _overrides(args, _BENCHMARK_OPTIONS)
    n_jobs = args.n_jobs
    if args.backend in ("dask", "ray") and n_jobs is None:
        n_jobs = -1  # every worker of the cluster
    with joblib_backend(args.backend, args.scheduler, args.n_jobs):
        run = run_benchmark(args.preset, args.out, overrides=overrides, n_jobs=n_jobs,
                            overwrite=args.overwrite, progress=not args.quiet,
                            plots=not args.no_plots)
    print(f"Wrote {run.out_dir / 'results.csv'} ({run.n_computed} cell(s) computed, "
          f"{run.n_skipped} skipped, {len(run.failed)} failed), summary.md"
          + "".join(f", {Path(p).name}" for p in run.figures.values()))
    return 1 if run.failed else 0


class InputData:
    """An input file's array, as read: ``X`` (2-D, for the imputer), the file's own
    ``shape`` and its CSV ``header`` line (``None`` when there is none)."""

    def __init__(self, X, shape, header=None):
        self.X, self.shape, self.header = X, shape, header


def read_array(path):
    """A .npy or comma-separated .csv file as a 2-D float array (NaN = missing).

    See :func:`read_input`; returns only the array.
    """
    return read_input(path).X


def read_input(path):
    """Read a .npy or .csv input file into :class:`InputData`.

    .npy: real numbers (bool, int or float; complex, object and text arrays are
    refused), 1-D (one row), 2-D (rows) or 3-D (images, flattened for the imputer and
    restored on output).  .csv: comma-separated numbers; an empty field or a token of
    :data:`CSV_MISSING_TOKENS` is missing; a first line holding a token that is
    neither is a header; any other non-numeric token is an error naming its line.
    """
    path = Path(path)
    if path.suffix == ".npy":
        X = _read_npy(path)
        header = None
    elif path.suffix == ".csv":
        X, header = _read_csv(path)
    else:
        raise ValueError(f"{path}: expected a .npy or .csv file.")
    shape = X.shape
    if X.ndim == 1:
        X = X[None, :]
    elif X.ndim == 3:
        X = X.reshape(len(X), -1)
    elif X.ndim != 2:
        raise ValueError(
            f"{path}: expected a 1-D, 2-D or 3-D (n, H, W) array; got shape {X.shape}."
        )
    return InputData(X, shape, header)


def _read_npy(path):
    with open(path, "rb") as f:
        magic = f.read(6)
    if magic != b"\x93NUMPY":
        raise ValueError(f"{path}: not a NumPy .npy file (it does not start with the .npy "
                         "magic bytes).")
    try:
        X = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays need pickle, which is never allowed here
        raise ValueError(f"{path}: cannot read it without unpickling ({exc}).") from exc
    if np.iscomplexobj(X):
        raise ValueError(f"{path}: a complex array ({X.dtype}); the imputers take real "
                         "numbers (pass X.real or np.abs(X) yourself).")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"{path}: expected real numbers; got dtype {X.dtype}.")
    return np.asarray(X, dtype=np.float64)


def _read_csv(path):
    import csv

    with open(path, newline="") as f:
        rows = [row for row in csv.reader(f) if row]
    if not rows:
        raise ValueError(f"{path}: empty file.")
    header = None
    if any(_csv_value(token) is None for token in rows[0]):
        header, rows = rows[0], rows[1:]
    values = []
    for number, row in enumerate(rows, start=2 if header else 1):
        parsed = [_csv_value(token) for token in row]
        if None in parsed:
            bad = row[parsed.index(None)]
            raise ValueError(
                f"{path}, line {number}, column {parsed.index(None) + 1}: {bad!r} is neither "
                "a number nor a missing-value token (empty, NaN, NA, N/A, null, None, ...)."
            )
        if len(parsed) != len(rows[0]):
            raise ValueError(f"{path}, line {number}: {len(parsed)} fields, but the first "
                             f"row has {len(rows[0])}.")
        values.append(parsed)
    if not values:
        raise ValueError(f"{path}: no data rows.")
    return np.array(values, dtype=np.float64), header


def _csv_value(token):
    """A CSV token as a float (NaN when missing), or None when it is neither."""
    token = token.strip()
    if token in CSV_MISSING_TOKENS:
        return np.nan
    try:
        return float(token)
    except ValueError:
        return None


def write_array(path, X, header=None):
    """Write ``X`` as .npy or .csv (with ``header`` as its first line when given).

    CSV values are written as Python's shortest round-trip ``repr``, so they read back
    bit-identical.
    """
    path = Path(path)
    if path.suffix == ".npy":
        np.save(path, X)
    elif path.suffix == ".csv":
        import csv

        with open(path, "w", newline="") as f:
            if header is not None:
                csv.writer(f, lineterminator="\n").writerow(header)
            for row in np.atleast_2d(X).tolist():
                f.write(",".join(map(repr, row)) + "\n")
    else:
        raise ValueError(f"{path}: the output must be a .npy or .csv file.")


def load_model(path):
    """Load a fitted imputer saved with joblib, as ``--model`` does.

    joblib files are pickles: loading one runs whatever code it holds, so load only
    files you made or trust.  The loaded object must be a fitted scikit-learn
    estimator with ``transform``; every failure is a one-line ``ValueError`` (or
    ``FileNotFoundError``) naming the file.
    """
    import joblib
    from sklearn.base import BaseEstimator
    from sklearn.exceptions import NotFittedError
    from sklearn.utils.validation import check_is_fitted

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file.")
    if path.stat().st_size == 0:
        raise ValueError(f"{path}: empty file, not a saved model.")
    with open(path, "rb") as f:
        if f.read(6) == b"\x93NUMPY":
            raise ValueError(f"{path}: a NumPy .npy array, not a saved model (a joblib file "
                             "written by --save-model or the benchmark).")
    try:
        model = joblib.load(path)
    except Exception as exc:  # noqa: BLE001 - any unreadable file gets the same message
        raise ValueError(f"{path}: not a readable joblib model ({type(exc).__name__}: "
                         f"{exc}).") from exc
    if not (isinstance(model, BaseEstimator) and callable(getattr(model, "transform", None))):
        raise ValueError(f"{path}: holds a {type(model).__module__}.{type(model).__name__}, "
                         "not a scikit-learn imputer (an estimator with transform).")
    try:
        check_is_fitted(model)
    except NotFittedError as exc:
        raise ValueError(f"{path}: the {type(model).__name__} in it is not fitted.") from exc
    return model


def _same_file(a, b):
    a, b = Path(a), Path(b)
    if b.exists() and a.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _impute(args):
    import joblib

    from .experiment import load_preset, make_imputer

    # Every option is checked before the data is read or a model is fitted.
    for path, what in ((args.output, "output"), (args.save_model, "--save-model")):
        if path is not None and not Path(path).resolve().parent.is_dir():
            raise FileNotFoundError(f"{what} {path}: its folder does not exist.")
    if Path(args.output).suffix not in (".npy", ".csv"):
        raise ValueError(f"{args.output}: the output must be a .npy or .csv file.")
    if _same_file(args.input, args.output) and not args.overwrite_input:
        raise ValueError(
            f"the output {args.output} is the input file: writing it would replace the "
            "input and lose its missing-value mask. Choose another output or pass "
            "--overwrite-input."
        )
    if args.model:
        imputer = load_model(args.model)
    else:
        config = load_preset(args.preset, _overrides(args, {
            "image_shape": "image_shape", "device": "device", "seed": "seed",
            "verbose": "verbose"}))
        image_shape = config["image_shape"]
        imputer = make_imputer(
            args.method, config["params"].get(args.method),
            image_shape=None if image_shape is None else tuple(image_shape),
            device=config["device"], random_state=config["seed"], verbose=config["verbose"],
        )
        if hasattr(imputer, "_validate_params"):
            imputer._validate_params()
    data = read_input(args.input)
    X = data.X
    if args.model:
        X_imputed = imputer.transform(X)
    else:
        params = imputer.get_params()
        if len(data.shape) == 3 and "image_shape" in params and params["image_shape"] is None:
            imputer.set_params(image_shape=tuple(data.shape[1:]))  # (n, H, W) images
        X_imputed = imputer.fit_transform(X)
    X_imputed = np.asarray(X_imputed).reshape(data.shape)
    write_array(args.output, X_imputed, data.header)
    if args.save_model:
        joblib.dump(imputer, args.save_model)
    print(f"Imputed {int(np.isnan(X).sum())} missing entries of {args.input} -> {args.output}"
          + (" (header line kept)" if data.header is not None and args.output.endswith(".csv")
             else ""))
    return 0


def _plot(args):
    import json

    from .experiment import draw_all, read_results
    from .experiment._runner import write_summaries

    results = Path(args.results)
    folder = results if results.is_dir() else results.parent
    out = Path(args.out) if args.out else folder
    out.mkdir(parents=True, exist_ok=True)
    frame = read_results(results)
    config = {}
    if (folder / "config.json").exists():
        config = json.loads((folder / "config.json").read_text())
    write_summaries(out, frame, {"dataset": str(results), **config})
    figures = draw_all(out, frame, config)
    if out != folder and (folder / "examples").is_dir():
        from .experiment._plots import plot_examples

        figures["examples"] = plot_examples(
            folder / "examples", out / "examples.png", methods=config.get("methods"),
            params=config.get("params"))
    print("Wrote " + ", ".join(str(p) for p in figures.values() if p is not None))
    return 0


def _presets(args):
    from .experiment import list_presets
    from .experiment._presets import preset_path, read_preset_text

    if args.show:
        print(read_preset_text(args.show), end="")
        return 0
    for name in list_presets():
        print(f"{name}\t{preset_path(name)}")
    return 0


def _limit_threads(n_threads):
    """torch and OpenMP threads of this process and of the worker processes it starts."""
    import torch

    os.environ["OMP_NUM_THREADS"] = str(n_threads)
    torch.set_num_threads(n_threads)


def main(argv=None):
    """Entry point of ``skrbm-impute``; returns the exit status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    handler = {"benchmark": _benchmark, "impute": _impute, "plot": _plot, "presets": _presets}
    try:
        if getattr(args, "threads", None) is not None:
            _limit_threads(args.threads)
        return handler[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, ImportError, OSError) as exc:
        print(f"skrbm-impute {args.command}: error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
