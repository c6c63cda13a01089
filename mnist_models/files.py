"""Writing files so that nothing is ever half-written (caches, saved runs, reports, datasets), and a command's
failure (a full disk, a folder it cannot write) said in one line with the exit code 2."""

from __future__ import annotations

import contextlib
import errno
import os
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    An ``OSError`` (no space, no permission, a folder in the way) is raised again naming ``path``, not the
    temporary file, so that the one line a command prints says which file could not be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)  # its own error names the folder in the way
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as exc:
        raise _naming(exc, path) from exc
    try:
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise _naming(exc, path) from exc
        raise


def _naming(exc: OSError, path: Path) -> OSError:
    """``exc`` as the same kind of error (its errno kept) about ``path``."""
    try:
        return type(exc)(exc.errno, exc.strerror or str(exc), str(path))
    except TypeError:  # a subclass with another signature: keep it as it is
        return exc


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- A command's failure in one line --------------------------------------------------------------------------

# what to do about a filesystem error, by its errno
_ADVICE = {
    errno.ENOSPC: "the disk is full: free some space or write elsewhere",
    errno.EDQUOT: "the disk quota is exceeded: free some space or write elsewhere",
    errno.EACCES: "choose a writable place or fix its permissions",
    errno.EPERM: "choose a writable place or fix its permissions",
    errno.EROFS: "the filesystem is read-only: choose a writable place",
    errno.EEXIST: "a file is in the way: move it or choose another path",
    errno.ENOTDIR: "a part of the path is a file, not a folder: choose another path",
    errno.EISDIR: "it is a folder where a file was expected: give a file path",
    errno.ENOENT: "check the path",
}


def describe_error(exc: BaseException) -> str:
    """One line for an error that escaped a command: for a filesystem error, the path and what to do."""
    if isinstance(exc, OSError):
        where = exc.filename if exc.filename is not None else "(unnamed file)"
        what = exc.strerror or str(exc)
        return f"{where}: {what}; {_ADVICE.get(exc.errno, 'check the path and try again')}"
    if isinstance(exc, RecursionError):
        return "an input nested too deep to read (RecursionError); check the files given"
    message = (str(exc).strip().splitlines() or [""])[0]
    return f"unexpected {type(exc).__name__}: {message} (run again with --debug for the traceback, and report it)"


def guarded(prog: str, args: Any) -> int:
    """Run a parsed command (``args.func(args)``) under the exit-code contract: its own code, else 2 and one line
    for whatever escaped it (exit 1 means "the gate failed", never "something broke"); 130 on Ctrl-C."""
    func: Callable[[Any], int] = args.func
    try:
        return int(func(args))
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return INTERRUPTED
    except Exception as exc:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
