"""The ``skrbm-impute`` command line (also ``python -m skrbm_impute``).

Subcommands: ``benchmark`` (the paper's study; no argument runs the quick preset),
``impute`` (fill the NaN of a .npy/.csv file), ``plot`` (redraw the figures of a
results folder) and ``presets`` (list or print the shipped preset files).

The parts live in modules named for them: ``_parser`` (options), ``_commands`` (one
function per subcommand), ``_array_files`` (.npy/.csv input and output), ``_models``
(saved imputers) and ``_backends`` (joblib, Dask, threads).
"""

import signal
import sys

from ._parser import build_parser

__all__ = ["build_parser", "main"]

#: Exit status of a usage error (argparse's own, a bad --device or preset device, options
#: that cannot go together such as ``impute --model`` with a training option).
USAGE_ERROR = 2


def main(argv=None):
    """Entry point of ``skrbm-impute``; returns the exit status.

    0: done; 1: an error (one line on stderr naming the file or option) or failed
    benchmark cells; 2: a usage error (argparse's, a device this machine lacks, or a
    training option given to ``impute --model``);
    128 + the signal number when interrupted (SIGINT: 130, SIGTERM: 143).
    """
    from ._backends import limit_threads
    from ._commands import COMMANDS
    from ._parser import UsageError

    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return USAGE_ERROR
    prefix = f"skrbm-impute {args.command}: error:"
    try:
        if getattr(args, "threads", None) is not None:
            limit_threads(args.threads)
        return COMMANDS[args.command](args)
    except KeyboardInterrupt as interrupt:
        number = getattr(interrupt, "signal_number", signal.SIGINT)
        print(f"skrbm-impute {args.command}: interrupted by {signal.Signals(number).name}.",
              file=sys.stderr)
        return 128 + number
    except (ValueError, TypeError, FileNotFoundError, ImportError, OSError) as exc:
        print(f"{prefix} {exc}", file=sys.stderr)
        return USAGE_ERROR if isinstance(exc, UsageError) or _is_device_error(exc) else 1


def _is_device_error(exc):
    try:
        from ..experiment._presets import DeviceError
    except ImportError:  # the benchmark extra is missing: no preset was read
        return False
    return isinstance(exc, DeviceError)
