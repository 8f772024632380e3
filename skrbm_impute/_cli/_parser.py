"""The argument parser of ``skrbm-impute``: subcommands, options and their checks."""

import argparse

TRUST_NOTE = (
    "Security: presets (and --set) are trusted code -- 'estimator = \"module:Class\"' and "
    "'fid_features = \"module:callable\"' import the module they name (only scikit-learn "
    "estimator classes and non-builtin feature callables are then accepted). --model "
    "files are pickles (joblib): loading one can run any code, so load only files you "
    "made or trust."
)

#: ``benchmark`` option (argparse ``dest``) -> the preset key it overrides.
BENCHMARK_OPTIONS = {
    "dataset": "dataset", "labels": "labels", "data_home": "data_home",
    "image_shape": "image_shape", "n_train": "n_train", "n_test": "n_test",
    "methods": "methods", "mechanisms": "mechanisms", "rates": "rates",
    "train_repeats": "n_train_repeats", "test_repeats": "n_test_repeats",
    "device": "device", "seed": "seed", "verbose": "verbose", "n_jobs": "n_jobs",
}

#: ``impute`` option -> the preset key it overrides.
IMPUTE_OPTIONS = {"image_shape": "image_shape", "device": "device", "seed": "seed",
                  "verbose": "verbose"}

#: ``impute --model`` refuses the options that only configure training: ``dest`` ->
#: (the option, why it cannot apply to a fitted model).  ``--device`` and ``--threads``
#: do apply (they choose where and how the loaded model imputes).
TRAINING_ONLY_OPTIONS = {
    "preset": ("--preset", "presets configure the training of --method; a saved model "
                           "keeps the settings it was fitted with"),
    "assignments": ("--set", "preset settings configure the training of --method; a saved "
                             "model keeps the settings it was fitted with"),
    "image_shape": ("--image-shape", "a saved model keeps the image shape it was fitted "
                                     "with"),
    "seed": ("--seed", "a saved model imputes the same way every time (its imputation "
                       "seed was drawn when it was fitted); --seed seeds the training of "
                       "--method"),
    "verbose": ("--verbose", "it shows training progress; a saved model only imputes"),
}


class UsageError(ValueError):
    """Options that cannot go together, found after parsing: exit status 2, as argparse's
    own usage errors."""


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
    if height < 1 or width < 1:
        raise argparse.ArgumentTypeError(f"image shape must be positive; got {text!r}.")
    return [height, width]


def _device(text):
    from ..experiment._presets import check_device

    try:
        return check_device(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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
    parser.add_argument("--device", type=_device,
                        help="cpu, cuda, cuda:N or auto (models and FID network; with "
                             "impute --model, where the loaded model imputes)")
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
        if action.default is None and action.dest in BENCHMARK_OPTIONS:
            return text + " (default: the preset's)"
        if action.default not in (None, False, [], argparse.SUPPRESS):
            return text + " (default: %(default)s)"
        return text


def build_parser():
    """The ``skrbm-impute`` parser: ``benchmark``, ``impute``, ``plot``, ``presets``."""
    from .._version import __version__

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
    bench.add_argument("--backend", choices=["loky", "threading", "multiprocessing", "dask"],
                       help="joblib backend; dask spreads the cells over a cluster")
    bench.add_argument("--scheduler", metavar="ADDRESS",
                       help="Dask scheduler (tcp://host:8786); default: a local cluster")
    bench.add_argument("--overwrite", action="store_true", help="discard earlier results in --out")
    bench.add_argument("--no-plots", action="store_true", help="skip the figures")
    bench.add_argument("--quiet", action="store_true", help="no progress bar")

    impute = sub.add_parser(
        "impute", help="impute the NaN entries of a .npy or .csv file",
        description="Fit a method on the file itself (imputers learn from incomplete data) "
                    "or load a fitted model, then write the completed array. With --model "
                    "only --device (for a model with a device parameter: the package's "
                    "torch imputers) and --threads apply; --preset, --set, --image-shape, "
                    "--seed and --verbose configure training and are refused (exit "
                    "status 2).",
        epilog=TRUST_NOTE)
    impute.add_argument(
        "input",
        help=".npy (real numbers, NaN = missing; (n, H, W) images keep their shape) or "
             ".csv (comma-separated, UTF-8; read as pandas.read_csv reads it: missing = "
             "an empty field or one of pandas' default na_values: NaN, nan, NA, N/A, n/a, "
             "null, NULL, None, <NA>, #N/A, ...; a first line that is not numbers is a "
             "header, kept in a .csv output)")
    impute.add_argument("output", help=".npy or .csv (not the input file; see "
                                       "--overwrite-input)")
    source = impute.add_mutually_exclusive_group()
    source.add_argument("--method", default="lmrbm",
                        help="a method of the preset (default lmrbm), settings from --preset")
    source.add_argument("--model",
                        help="a fitted imputer saved with joblib (e.g. by benchmark), used "
                             "as it was fitted. A pickle: load only files you made or trust")
    impute.add_argument("--save-model", help="save the fitted imputer here (joblib)")
    impute.add_argument("--overwrite-input", action="store_true",
                        help="allow the output to replace the input file (its NaN mask is "
                             "then lost)")
    _add_preset_options(impute)
    impute.set_defaults(preset=None)  # "quick" when fitting; None tells --model it was not given

    plot = sub.add_parser("plot", help="redraw the summary and figures from a results file")
    plot.add_argument("results", help="a results folder or its results.csv")
    plot.add_argument("--out", help="where to write the figures (default: the results folder)")

    presets = sub.add_parser("presets", help="list the shipped presets or print one to copy")
    presets.add_argument("--show", metavar="NAME", help="print this preset's file")
    for subparser in sub.choices.values():
        subparser.formatter_class = _DefaultsFormatter
    return parser
