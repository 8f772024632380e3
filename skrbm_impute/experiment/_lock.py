"""One benchmark run per output folder: an advisory lock on ``<out>/.skrbm-impute.lock``.

The operating system's file lock (``fcntl.flock``; ``msvcrt.locking`` on Windows) does
the excluding, so a run killed at any moment (SIGKILL included) releases it and two
runs racing for it cannot both win.  The file also records who holds it (pid, host,
start time) for the message of a refused run, and a record left behind by a run that
died is reported when the next run takes the folder over.  The file itself stays (it
is emptied on release): deleting it would let a run that opened it just before the
deletion lock an orphaned file while a third run locks a new one.
"""

import datetime
import json
import os
import socket

LOCK_NAME = ".skrbm-impute.lock"


class OutputLockedError(OSError):
    """Another benchmark run is writing into the same output folder (an ``OSError``,
    like any other resource that is busy)."""


def _try_lock(fd):
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


def _describe(record):
    return (f"pid {record.get('pid', '?')} on host {record.get('host', '?')}, "
            f"started {record.get('started', '?')}")


def _read_record(fd):
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 4096):
        raw += chunk
    if not raw.strip():
        return None
    try:
        record = json.loads(raw)
    except ValueError:
        return {"pid": "?", "host": "?", "started": f"? (unreadable record {raw[:60]!r})"}
    return record if isinstance(record, dict) else {}


class OutputLock:
    """Context manager holding the lock of ``out_dir`` for one run.

    Parameters
    ----------
    out_dir : Path
        The output folder (must exist).
    echo : callable
        Receives the note printed when a dead run's record is taken over.

    Raises
    ------
    OutputLockedError
        On entry, when another live run holds the folder; the message names its pid,
        host and start time.
    """

    def __init__(self, out_dir, echo=print):
        self.path = out_dir / LOCK_NAME
        self.echo = echo
        self._fd = None

    def __enter__(self):
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if not _try_lock(fd):
                holder = _read_record(fd) or {}
                raise OutputLockedError(
                    f"{self.path.parent} is in use by another skrbm-impute benchmark run "
                    f"({_describe(holder)}); wait for it to finish or choose another --out. "
                    f"(If no such run exists, delete {self.path}.)"
                )
            stale = _read_record(fd)
            if stale is not None:
                self.echo(f"Taking over {self.path.parent}: the run that locked it "
                          f"({_describe(stale)}) is no longer running.")
            record = {
                "pid": os.getpid(),
                "host": socket.gethostname(),
                "started": datetime.datetime.now(datetime.timezone.utc).isoformat(
                    timespec="seconds"),
            }
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, json.dumps(record).encode())
            os.fsync(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return self

    def __exit__(self, *exc):
        os.ftruncate(self._fd, 0)  # a clean exit leaves no record to report
        os.close(self._fd)  # closing releases the lock
        self._fd = None
