"""The subcommands of ``skrbm-impute``: each checks every option first, then works."""

import os
from pathlib import Path

import numpy as np

from ._array_files import read_input, write_array
from ._backends import joblib_backend
from ._models import check_writable, load_model, save_model
from ._parser import BENCHMARK_OPTIONS, IMPUTE_OPTIONS, TRAINING_ONLY_OPTIONS, UsageError


def _overrides(args, mapping):
    from ..experiment._presets import parse_assignment

    overrides = [parse_assignment(text) for text in args.assignments]
    direct = {key: getattr(args, attr) for attr, key in mapping.items()
              if getattr(args, attr, None) is not None}
    return overrides + ([direct] if direct else [])


def benchmark(args):
    """``skrbm-impute benchmark``: run or resume the benchmark into ``--out``."""
    from ..experiment import load_preset, run_benchmark

    overrides = _overrides(args, BENCHMARK_OPTIONS)
    if args.scheduler and args.backend != "dask":
        raise ValueError(f"--scheduler {args.scheduler} needs --backend dask.")
    load_preset(args.preset, overrides)  # refuse a bad setting before a cluster starts
    n_jobs = args.n_jobs
    if args.backend == "dask" and n_jobs is None:
        n_jobs = -1  # every worker of the cluster
    with joblib_backend(args.backend, args.scheduler, args.n_jobs):
        run = run_benchmark(args.preset, args.out, overrides=overrides, n_jobs=n_jobs,
                            overwrite=args.overwrite, progress=not args.quiet,
                            plots=not args.no_plots)
    print(f"Wrote {run.out_dir / 'results.csv'} ({run.n_computed} cell(s) computed, "
          f"{run.n_skipped} skipped, {len(run.failed)} failed), summary.md"
          + "".join(f", {Path(p).name}" for p in run.figures.values()))
    return 1 if run.failed else 0


def _same_file(a, b):
    a, b = Path(a), Path(b)
    if b.exists() and a.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _check_impute_files(args):
    """Every file option of ``impute``, checked before the data is read or a model fitted."""
    if Path(args.output).suffix not in (".npy", ".csv"):
        raise ValueError(f"{args.output}: the output must be a .npy or .csv file.")
    check_writable(args.output, "output")
    if _same_file(args.input, args.output) and not args.overwrite_input:
        raise ValueError(
            f"the output {args.output} is the input file: writing it would replace the "
            "input and lose its missing-value mask. Choose another output or pass "
            "--overwrite-input."
        )
    if args.save_model is not None:
        check_writable(args.save_model, "--save-model")
        for other, what in ((args.input, "input"), (args.output, "output")):
            if _same_file(args.save_model, other):
                raise ValueError(f"--save-model {args.save_model} is the {what} file; "
                                 "choose another file name.")


def _check_model_options(args):
    """With ``--model``, refuse the training options (a usage error naming the first)."""
    for dest, (option, reason) in TRAINING_ONLY_OPTIONS.items():
        if getattr(args, dest) not in (None, []):
            raise UsageError(f"argument {option}: not allowed with --model: {reason}.")


def _apply_runtime_options(imputer, args, source):
    """``--device`` and ``--threads`` onto ``imputer`` (they win over its own settings).

    ``--device`` for an imputer without a ``device`` parameter is a usage error: it would
    be ignored.  ``--threads`` also limits the process's torch threads (``main``), so an
    imputer without ``n_threads`` follows it anyway.
    """
    params = imputer.get_params(deep=False)
    if args.device is not None:
        if "device" not in params:
            raise UsageError(
                f"argument --device: the {type(imputer).__name__} {source} has no "
                "device parameter (only the package's torch imputers do); leave --device out."
            )
        imputer.set_params(device=args.device)
    if getattr(args, "threads", None) is not None and "n_threads" in params:
        imputer.set_params(n_threads=args.threads)
    return imputer


def _loaded_model(args):
    """``--model``'s imputer, with ``--device`` and ``--threads`` when given."""
    return _apply_runtime_options(load_model(args.model), args, f"in {args.model}")


def _imputer_from_preset(args):
    from ..experiment import load_preset, make_imputer

    config = load_preset(args.preset or "quick", _overrides(args, IMPUTE_OPTIONS))
    image_shape = config["image_shape"]
    imputer = make_imputer(
        args.method, config["params"].get(args.method),
        image_shape=None if image_shape is None else tuple(image_shape),
        device=config["device"], random_state=config["seed"], verbose=config["verbose"],
    )
    _apply_runtime_options(imputer, args, f"of method {args.method!r}")
    if hasattr(imputer, "_validate_params"):
        imputer._validate_params()  # scikit-learn's own check, before the data is read
    return imputer


def impute(args):
    """``skrbm-impute impute``: fill the NaN of a .npy/.csv file."""
    if args.model:
        _check_model_options(args)
    _check_impute_files(args)
    imputer = _loaded_model(args) if args.model else _imputer_from_preset(args)
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
        save_model(imputer, args.save_model)
    print(f"Imputed {int(np.isnan(X).sum())} missing entries of {args.input} -> {args.output}"
          + (" (header line kept)" if data.header is not None and args.output.endswith(".csv")
             else ""))
    return 0


def plot(args):
    """``skrbm-impute plot``: redraw the summary and figures of a results folder."""
    from ..experiment import redraw_results

    figures = redraw_results(args.results, args.out)
    print("Wrote " + ", ".join(str(p) for p in figures.values() if p is not None))
    return 0


def presets(args):
    """``skrbm-impute presets``: list the shipped presets or print one."""
    from ..experiment import list_presets, preset_path
    from ..experiment._presets import read_preset_text

    if args.show:
        print(read_preset_text(args.show), end="")
        return 0
    for name in list_presets():
        print(f"{name}\t{preset_path(name)}")
    return 0


COMMANDS = {"benchmark": benchmark, "impute": impute, "plot": plot, "presets": presets}
