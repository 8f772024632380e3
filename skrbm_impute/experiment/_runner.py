"""The benchmark runner: cells of (method, mechanism, rate, training repeat), each fitted
once and scored on every test repeat, run through joblib and appended to
``results.csv`` as they finish."""

import contextlib
import json
import os
import shutil
import signal
import time
import traceback
import warnings
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import joblib
import numpy as np
from tqdm.auto import tqdm

from ..masks import MECHANISMS, apply_mask, make_mask
from ..metrics import rmse
from . import _pd_curve, _scoring
from ._data import dataset_has_labels, load_benchmark_data
from ._lock import OutputLock
from ._methods import make_imputer
from ._paper import (BUDGET_METRIC, ROWS_SEEN_METRIC, budget_labels, budget_notes,
                     compare_with_paper, training_batches, training_rows_seen)
from ._presets import CELL_DEFINING_KEYS, load_preset
from ._results import (BASE_METRICS, ResultsFile, cell_key, finished_cells, read_run_config,
                       summary_markdown)

_PURPOSES = ("train-mask", "test-mask", "model")


def derive_seed(seed, purpose, mechanism, rate, train_repeat, test_repeat=0, method=""):
    """A reproducible 32-bit seed for one mask or model of the benchmark.

    The training and test masks of a (mechanism, rate, repeat) do not depend on the
    method, so every method is scored on exactly the same masks.
    """
    entropy = [
        int(seed), _PURPOSES.index(purpose), MECHANISMS.index(mechanism),
        int(round(rate * 1_000_000)), int(train_repeat), int(test_repeat),
        zlib.crc32(method.encode()),
    ]
    return int(np.random.SeedSequence(entropy).generate_state(1)[0])


def pm_geometry(config):
    """The P.M. geometry keyword arguments of ``make_mask`` from a configuration."""
    return {"patch_size": tuple(config["pm_patch_size"]),
            "placement": config["pm_placement"],
            "count_rounding": config["pm_count_rounding"]}


def benchmark_cells(config):
    """Every cell of the configuration, in run order."""
    return [
        cell_key(method, mechanism, rate, train_repeat)
        for mechanism in config["mechanisms"]
        for rate in config["rates"]
        for train_repeat in range(config["n_train_repeats"])
        for method in config["methods"]
    ]


@dataclass
class CellResult:
    """What one cell sends back to the parent process (workers write no files)."""

    key: tuple
    rows: list
    examples: dict = field(default_factory=dict)
    model: object = None
    error: str = ""
    traceback: str = ""
    expected: bool = True  # a known way for training to fail, not a bug
    kind: str = ""  # failure_kind: "divergence" or "out of memory" when expected


#: What torch's allocators say when memory runs out: the CPU allocator raises a plain
#: ``RuntimeError`` ("DefaultCPUAllocator: can't allocate memory"), older CUDA builds
#: "CUDA out of memory".
_OUT_OF_MEMORY_MESSAGES = ("can't allocate memory", "out of memory")


def failure_kind(exc):
    """``"divergence"`` or ``"out of memory"`` for the ways a model is known to fail on
    a mask, ``None`` for any other exception (a bug, not a bad cell).

    Divergence is a ``FloatingPointError`` (the package's imputers raise it with the
    epoch and a remedy); out of memory is a ``MemoryError``, torch's
    ``OutOfMemoryError`` (CUDA) or a ``RuntimeError`` from torch's CPU allocator.
    """
    if isinstance(exc, FloatingPointError):
        return "divergence"
    if isinstance(exc, MemoryError):
        return "out of memory"
    try:
        import torch

        if isinstance(exc, getattr(torch, "OutOfMemoryError", torch.cuda.OutOfMemoryError)):
            return "out of memory"
    except ImportError:  # pragma: no cover - torch is a dependency
        pass
    if isinstance(exc, RuntimeError) and any(
            text in str(exc) for text in _OUT_OF_MEMORY_MESSAGES):
        return "out of memory"
    return None


def _guarded_run_cell(key, data, config, reference):
    """:func:`run_cell`, turning a failure into a reported, retryable cell: one method
    failing on one mask does not throw away a long benchmark.  The traceback travels
    with the failure, and failures :func:`failure_kind` does not know are marked
    unexpected (a bug in an estimator or in the package is not a bad cell)."""
    try:
        return run_cell(key, data, config, reference)
    except Exception as exc:  # noqa: BLE001 - reported to the user with its traceback
        kind = failure_kind(exc)
        return CellResult(key, [], error=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc(), expected=kind is not None,
                          kind=kind or "")


def _checked_transform(imputer, X, method):
    """``imputer.transform(X)``, raising ``FloatingPointError`` naming the method when
    the result holds NaN or infinity (so a diverged model is reported as such, not as
    "Input contains NaN" from the next step)."""
    X_imputed = imputer.transform(X)
    bad = ~np.isfinite(X_imputed)
    if bad.any():
        raise FloatingPointError(
            f"method {method!r} ({type(imputer).__name__}) returned {int(bad.sum())} "
            "non-finite value(s) from transform: its model diverged or is broken."
        )
    return X_imputed


def run_cell(key, data, config, reference):
    """Fit one method on one masked training set and score it on every test repeat.

    Returns a :class:`CellResult` whose rows are ``(method, mechanism, rate,
    train_repeat, test_repeat, metric, value)``.  Metrics: ``rmse``, ``fid``,
    ``accuracy`` (a logistic regression fit on the imputed training set, scored on the
    imputed test set; only with labels), ``hidden_accuracy`` (the same on
    ``transform_hidden`` features, for estimators that have it), ``fit_seconds`` and,
    for estimators whose training batches are counted (MisGAN), ``training_batches``;
    for the RBMs, ``training_rows_seen`` (epochs run times training images).
    """
    method, mechanism, rate, train_repeat = key
    X_train, X_test = data["X_train"], data["X_test"]
    y_train, y_test = data["y_train"], data["y_test"]
    image_shape = data["image_shape"]
    seed = config["seed"]

    def mask_for(n, purpose, test_repeat=0):
        return make_mask(
            mechanism, n, image_shape, rate,
            random_state=derive_seed(seed, purpose, mechanism, rate, train_repeat, test_repeat),
            **(pm_geometry(config) if mechanism == "PM" else {}),
        )

    train_missing = mask_for(len(X_train), "train-mask")
    X_train_missing = apply_mask(X_train, train_missing)
    imputer = make_imputer(
        method, config["params"].get(method),
        image_shape=tuple(image_shape), device=config["device"], verbose=config["verbose"],
        random_state=derive_seed(seed, "model", mechanism, rate, train_repeat, method=method),
    )
    start = time.perf_counter()
    imputer.fit(X_train_missing)
    fit_seconds = time.perf_counter() - start
    batches = training_batches(imputer)
    rows_seen = training_rows_seen(imputer, len(X_train_missing))

    classifier = hidden_classifier = None
    if y_train is not None:
        classifier = _scoring.fit_classifier(
            _checked_transform(imputer, X_train_missing, method), y_train, config
        )
        if hasattr(imputer, "transform_hidden"):
            hidden_classifier = _scoring.fit_classifier(
                imputer.transform_hidden(X_train_missing), y_train, config
            )

    rows, examples = [], {}
    for test_repeat in range(config["n_test_repeats"]):
        test_missing = mask_for(len(X_test), "test-mask", test_repeat)
        X_test_missing = apply_mask(X_test, test_missing)
        X_test_imputed = _checked_transform(imputer, X_test_missing, method)
        values = {
            "rmse": rmse(X_test, X_test_imputed, test_missing),
            "fid": _scoring.fid_to_reference(X_test_imputed, reference, config, image_shape),
        }
        # The perception knob's curve points, from the same fitted model.
        values.update(_pd_curve.curve_values(imputer, X_test, X_test_missing, test_missing,
                                             reference, config, image_shape))
        if classifier is not None:
            values["accuracy"] = 100 * classifier.score(X_test_imputed, y_test)
        if hidden_classifier is not None:
            hidden = imputer.transform_hidden(X_test_missing)
            values["hidden_accuracy"] = 100 * hidden_classifier.score(hidden, y_test)
        values["fit_seconds"] = fit_seconds
        if batches is not None:
            values[BUDGET_METRIC] = batches
        if rows_seen is not None:
            values[ROWS_SEEN_METRIC] = rows_seen
        not_finite = [name for name, value in values.items() if not np.isfinite(value)]
        if not_finite:
            raise FloatingPointError(
                f"metric(s) {not_finite} of method {method!r} are not finite on test "
                f"repeat {test_repeat}."
            )
        rows += [(method, mechanism, rate, train_repeat, test_repeat, name, value)
                 for name, value in values.items()]
        if train_repeat == 0 and test_repeat == 0 and config["n_examples"]:
            n = config["n_examples"]
            examples = {"imputed": X_test_imputed[:n], "missing": test_missing[:n]}
    model = imputer if config["save_models"] and train_repeat == 0 else None
    return CellResult(key, rows, examples, model)


@dataclass
class BenchmarkRun:
    """What :func:`run_benchmark` returns.

    Parameters
    ----------
    results : pandas.DataFrame
        Every result in the folder (this run's and earlier runs' cells).
    table : str
        The markdown summary written to ``summary.md``.
    out_dir : Path
        The results folder.
    n_computed : int
        Cells computed by this run.
    n_skipped : int
        Cells found already computed and not recomputed.
    figures : dict, default={}
        Figure name to its PNG path.
    failed : dict, default={}
        Cell to its error message, for the cells that failed.
    """

    results: object
    table: str
    out_dir: Path
    n_computed: int
    n_skipped: int
    figures: dict = field(default_factory=dict)
    failed: dict = field(default_factory=dict)


def run_benchmark(preset="quick", out_dir="skrbm-impute-results", *, overrides=None,
                  n_jobs=None, overwrite=False, progress=True, plots=True, echo=print):
    """Run (or resume) the perception-distortion benchmark.

    Parameters
    ----------
    preset : str, Path or dict, default="quick"
        A shipped preset name, a preset file or a dict (see :func:`load_preset`).
    out_dir : str or Path
        Where ``results.csv``, ``config.json``, ``summary.md``, the figures, the
        example imputations and the fitted models go.  Cells already in
        ``results.csv`` are not recomputed.
    overrides : dict or list of dict, optional
        Preset keys to replace.
    n_jobs : int, optional
        Joblib workers (overrides the preset's ``n_jobs``).  Inside
        ``joblib.parallel_config(backend="dask")`` the cells run on that
        cluster; ``-1`` then uses all its workers.
    overwrite : bool, default=False
        Discard earlier results (and saved models and examples) in ``out_dir``
        instead of resuming.
    progress : bool, default=True
        A tqdm bar over the cells.
    plots : bool, default=True
        Draw the figures at the end.
    echo : callable, default=print
        Receives the printed summary and notes (``None`` for silence).

    Returns
    -------
    run : BenchmarkRun
        The results, the summary, the figures and the failed cells.
    """
    echo = echo or (lambda *args: None)
    config = load_preset(preset, overrides)
    if n_jobs is not None:
        config["n_jobs"] = n_jobs
    # Every setting is checked before any work: a typo in a method name or a parameter
    # fails now, not as failed cells after the data and the FID reference were computed.
    expected_metrics = check_methods(config)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _terminate_as_interrupt(), OutputLock(out_dir, echo):
        try:
            return _run_locked(config, out_dir, expected_metrics, overwrite=overwrite,
                               progress=progress, plots=plots, echo=echo)
        except KeyboardInterrupt as interrupt:
            number = getattr(interrupt, "signal_number", signal.SIGINT)
            echo(f"Interrupted by {signal.Signals(number).name}: the finished cells are kept "
                 f"in {out_dir / 'results.csv'}; run the same command again to resume.")
            raise


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like SIGINT's ``KeyboardInterrupt`` so that a terminated run
    unwinds the same way: the lock record is cleared and the finished cells stay."""

    signal_number = signal.SIGTERM


@contextlib.contextmanager
def _terminate_as_interrupt():
    """While a run holds its folder, SIGTERM raises :class:`Terminated` (in the main
    thread, when no other handler was installed); the previous handler comes back."""
    import threading

    if (threading.current_thread() is not threading.main_thread()
            or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL):
        yield
        return

    def terminate(signum, frame):
        raise Terminated()

    signal.signal(signal.SIGTERM, terminate)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def check_methods(config):
    """Build (without fitting) every method of ``config`` and check its parameters and
    the FID features; return the metrics each method's cells produce.

    Raises
    ------
    ValueError, TypeError or ImportError
        Naming the method and the problem.
    """
    has_labels = dataset_has_labels(config)
    expected = {}
    for method in config["methods"]:
        imputer = make_imputer(
            method, config["params"].get(method), image_shape=config["image_shape"],
            device=config["device"], verbose=config["verbose"], random_state=0,
        )
        if hasattr(imputer, "_validate_params"):
            try:
                imputer._validate_params()
            except (ValueError, TypeError) as exc:
                raise type(exc)(f"method {method!r}: {exc}") from exc
        metrics = set(BASE_METRICS)
        if has_labels:
            metrics.add("accuracy")
            if hasattr(imputer, "transform_hidden"):
                metrics.add("hidden_accuracy")
        expected[method] = metrics
    _scoring.fid_features(config)  # imports and checks a "module:callable"
    return expected


def _run_locked(config, out_dir, expected_metrics, *, overwrite, progress, plots, echo):
    results = ResultsFile(out_dir / "results.csv")
    log_path = out_dir / "failed_cells.log"
    if overwrite:
        results.path.unlink(missing_ok=True)
        log_path.unlink(missing_ok=True)
        for folder in ("examples", "models"):
            shutil.rmtree(out_dir / folder, ignore_errors=True)
    # Refusing changed settings comes first: a refused run changes nothing in out_dir.
    _record_config(out_dir / "config.json", config, set(results.read()["method"]))
    results.repair(echo)
    log_path.unlink(missing_ok=True)  # this run's failures only
    frame = results.read()
    done = finished_cells(frame, config["n_test_repeats"], expected_metrics)
    broken = _cells_with_broken_models(out_dir, done, echo)
    done -= broken
    stored = {cell_key(*key) for key in zip(frame["method"], frame["mechanism"], frame["rate"],
                                            frame["train_repeat"])}
    _move_rows_of(results, broken, "rows of cell(s) whose saved model is damaged", echo)
    _move_rows_of(results, stored - done - broken,
                  "rows of unfinished cell(s) (a metric or a test repeat missing)", echo)
    cells = [key for key in benchmark_cells(config) if key not in done]
    n_skipped = len(benchmark_cells(config)) - len(cells)
    if n_skipped:
        echo(f"Resuming in {out_dir}: {n_skipped} finished cell(s) skipped, {len(cells)} to run.")

    failed = {}
    if cells:
        data = load_benchmark_data(config)
        reference = _scoring.fid_reference(data["X_test"], config, data["image_shape"])
        _save_examples_source(out_dir, data, config)
        tasks = (joblib.delayed(_guarded_run_cell)(key, data, config, reference) for key in cells)
        bar = tqdm(total=len(cells), desc="benchmark cells", unit="cell", disable=not progress)
        for result in _parallel_results(tasks, config["n_jobs"]):
            if result.error:
                failed[result.key] = result
                _log_failure(log_path, result)
            else:
                _store(out_dir, results, result)
            bar.set_postfix_str(" ".join(map(str, result.key)), refresh=False)
            bar.update()
        bar.close()

    frame = results.read()
    table = write_summaries(out_dir, frame, config, echo)
    figures = {}
    if plots:
        from ._plots import draw_all

        figures = draw_all(out_dir, frame, config)
    if failed:
        echo(_failure_report(failed, log_path))
    return BenchmarkRun(frame, table, out_dir, len(cells) - len(failed), n_skipped, figures,
                        {key: result.error for key, result in failed.items()})


def _move_rows_of(results, cells, what, echo, n_named=10):
    """Move the rows of ``cells`` (recomputed by this run) to the rejected file, with
    ``what`` they are and the cells (the first ``n_named``) as the reason."""
    if not cells:
        return
    names = [" ".join(map(str, key)) for key in sorted(cells)]
    listed = ", ".join(names[:n_named]) + (f" and {len(names) - n_named} more"
                                           if len(names) > n_named else "")
    n_moved = results.move_rows(lambda record: cell_key(*record[:4]) in cells,
                                f"dropped on resume: {what}, recomputed: {listed}")
    echo(f"Moved {n_moved} {what} from {results.path} to {results.rejected_path}; "
         f"{len(cells)} cell(s) are recomputed.")


def _log_failure(log_path, result):
    """One entry per failed cell: a tab-separated header line (cell, ``expected`` or
    ``UNEXPECTED``, the error), then the traceback indented by four spaces."""
    kind = "expected" if result.expected else "UNEXPECTED"
    body = "".join(f"    {line}\n" for line in result.traceback.rstrip().splitlines())
    with open(log_path, "a") as log:
        log.write(f"{' '.join(map(str, result.key))}\t{kind}\t{result.error}\n{body}")


def _failure_report(failed, log_path):
    lines = [f"{len(failed)} cell(s) failed (tracebacks in {log_path}; a rerun retries them):"]
    expected = [r for r in failed.values() if r.expected]
    unexpected = [r for r in failed.values() if not r.expected]
    if expected:
        lines.append(f"  {len(expected)} expected failure(s) (divergence, out of memory):")
        lines += [f"    {' '.join(map(str, r.key))}: " + (f"({r.kind}) " if r.kind else "")
                  + r.error for r in expected]
    if unexpected:
        lines.append(f"  {len(unexpected)} UNEXPECTED failure(s) (a bug in the estimator or "
                     "in skrbm-impute? see the tracebacks):")
        lines += [f"    {' '.join(map(str, r.key))}: {r.error}" for r in unexpected]
    return "\n".join(lines)


def _model_path(out_dir, key):
    method, mechanism, rate, _ = key
    return out_dir / "models" / f"{method}__{mechanism}__{rate:g}.joblib"


def _cells_with_broken_models(out_dir, done, echo):
    """Finished cells whose saved model is empty or does not load: they are redone.

    Models are written to a temporary file and renamed, so only an older version or
    a damaged disk leaves such a file; leftover temporary files are removed.
    """
    folder = out_dir / "models"
    if not folder.is_dir():
        return set()
    for leftover in folder.glob("*.tmp*"):
        leftover.unlink(missing_ok=True)
    broken = set()
    for key in done:
        path = _model_path(out_dir, key)
        if key[3] != 0 or not path.exists():
            continue
        try:
            if path.stat().st_size == 0:
                raise EOFError("empty file")
            joblib.load(path)  # written by this package into the user's own folder
        except Exception as exc:  # noqa: BLE001 - any failure to load means redo
            echo(f"Saved model {path} is damaged ({type(exc).__name__}: {exc}); its cell "
                 f"{' '.join(map(str, key))} is recomputed.")
            path.unlink()
            broken.add(key)
    return broken


def write_summaries(out_dir, frame, config, echo=print):
    """Write ``summary.md`` (also printed through ``echo``) and, for the cells the paper
    reports, ``paper_comparison.md``; return the summary table.  Undertrained methods
    are marked in the headers and their budgets stated below the tables."""
    table = summary_markdown(frame, methods=config.get("methods"),
                             params=budget_labels(frame, config.get("params")),
                             title=f"skrbm-impute benchmark ({config.get('dataset')})")
    notes = budget_notes(frame, config.get("params"))
    if notes:
        table += "\n" + "\n\n".join(notes) + "\n"
    (out_dir / "summary.md").write_text(table)
    echo(table)
    comparison = compare_with_paper(frame)
    if comparison:
        (out_dir / "paper_comparison.md").write_text(comparison)
    return table


def _parallel_results(tasks, n_jobs):
    """Yield cell results as they finish; backends without generators (Ray's) run in
    batches of their worker count so results still reach the file batch by batch."""
    try:
        parallel = joblib.Parallel(n_jobs=n_jobs, return_as="generator_unordered")
    except ValueError as exc:
        if "does not support return_as" not in str(exc):
            raise
    else:
        with warnings.catch_warnings():
            # loky restarts a worker whose memory grew by 300 MB (torch's caches, a
            # fitted model, the FID network) and warns of a "memory leak"; the cell is
            # resubmitted, nothing is lost, so the warning would only alarm the user.
            warnings.filterwarnings("ignore", message="A worker stopped while some jobs",
                                    category=UserWarning)
            yield from parallel(tasks)
        return
    parallel = joblib.Parallel(n_jobs=n_jobs)
    tasks = list(tasks)
    batch = max(1, joblib.effective_n_jobs(n_jobs))
    for start in range(0, len(tasks), batch):
        yield from parallel(tasks[start:start + batch])


def _store(out_dir, results, result):
    """Write a finished cell: examples and model first (each to a temporary file, then
    renamed), its rows last, so a kill at any moment leaves either a whole cell or
    rows-less files that the rerun overwrites -- never a finished cell with a torn model.
    """
    method, mechanism, rate, _ = result.key
    stem = f"{method}__{mechanism}__{rate:g}"
    if result.examples:
        folder = out_dir / "examples"
        folder.mkdir(exist_ok=True)
        _atomic_write(folder / f"{stem}.npz",
                      lambda f: np.savez_compressed(f, **result.examples))
    if result.model is not None:
        folder = out_dir / "models"
        folder.mkdir(exist_ok=True)
        _atomic_write(folder / f"{stem}.joblib", lambda f: joblib.dump(result.model, f))
    results.append(result.rows)


def _atomic_write(path, write):
    """Call ``write(file object)`` on a temporary file next to ``path``, flush it to disk,
    then rename it to ``path`` (a rename within a folder is atomic)."""
    tmp = path.with_name(f"{path.name}.tmp{os.getpid()}")
    try:
        with open(tmp, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _save_examples_source(out_dir, data, config):
    if config["n_examples"]:
        folder = out_dir / "examples"
        folder.mkdir(exist_ok=True)
        _atomic_write(folder / "clean.npz", lambda f: np.savez_compressed(
            f, clean=data["X_test"][: config["n_examples"]],
            image_shape=np.asarray(data["image_shape"]),
        ))


def _record_config(path, config, methods_with_results):
    """Write ``config.json``; with earlier results, refuse settings that would change
    what their cells mean (the axes may grow)."""
    if methods_with_results and path.exists():
        previous = read_run_config(path)
        changed = [key for key in CELL_DEFINING_KEYS if previous.get(key) != _jsonable(config[key])]
        for method in sorted(methods_with_results):
            before = previous.get("params", {}).get(method, {})
            if _jsonable(config["params"].get(method, {})) != before:
                changed.append(f"params.{method}")
        if changed:
            raise ValueError(
                f"{path.parent} holds results computed with other settings ({', '.join(changed)}); "
                "choose another output folder or pass overwrite=True (--overwrite)."
            )
        merged = dict(previous.get("params", {}))
        merged.update(config["params"])
        config = {**config, "params": merged}
    path.write_text(json.dumps(_jsonable(config), indent=2) + "\n")


def _jsonable(value):
    return json.loads(json.dumps(value))
