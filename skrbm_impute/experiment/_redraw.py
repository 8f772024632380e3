"""Redraw a results folder: ``summary.md``, ``paper_comparison.md`` and the figures."""

from pathlib import Path

from ._results import ResultsFile, read_run_config


def redraw_results(results, out_dir=None, echo=print):
    """Redraw the summary and figures of a finished (or partial) benchmark run.

    Everything is checked before anything is written: a results file that is empty,
    holds only a header, has other columns or no readable row, and a damaged
    ``config.json``, are refused and every file is left as it was.

    Parameters
    ----------
    results : str or Path
        A results folder or its ``results.csv``.
    out_dir : str or Path, optional
        Where to write (default: the results folder).
    echo : callable, default=print
        Receives the summary table.

    Returns
    -------
    figures : dict
        Figure name -> path of each figure drawn.

    Raises
    ------
    FileNotFoundError or ValueError
        Naming the file and what is wrong with it.
    """
    from ._plots import draw_all, plot_examples
    from ._runner import write_summaries

    results = Path(results)
    path = results / "results.csv" if results.is_dir() else results
    folder = path.parent
    store = ResultsFile(path)
    store.check()
    config = read_run_config(folder / "config.json")
    frame = store.read()
    out = Path(out_dir) if out_dir else folder
    out.mkdir(parents=True, exist_ok=True)
    write_summaries(out, frame, {"dataset": str(results), **config}, echo or (lambda *a: None))
    figures = draw_all(out, frame, config)
    if out != folder and (folder / "examples").is_dir():
        figures["examples"] = plot_examples(
            folder / "examples", out / "examples.png", methods=config.get("methods"),
            params=config.get("params"), frame=frame)
    return figures
