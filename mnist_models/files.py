"""Writing files so that nothing is ever half-written (caches, saved runs, reports, datasets), and a command's
failure (a full disk, a folder it cannot write) said in one line with the exit code 2."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

INTERRUPTED = 130  # 128 + SIGINT, as a shell reports a command stopped by Ctrl-C
TERMINATED = 143  # 128 + SIGTERM, as a shell reports a command stopped by kill (or a CI job's timeout)
# A temporary file or folder of ours (``.<name>.<random>.mnist-models.tmp``: the marker keeps other programs' files
# out of the cleaning) lives for the seconds of one write; one older than this was left by a process killed
# mid-write (SIGKILL, a power cut) and is removed when the next session starts.
TEMP_SUFFIX = ".mnist-models.tmp"
ORPHAN_AGE_S = 3600.0
# What a folder written by ``atomic_write_folder`` lists of its own files: a rewrite replaces such a folder whole
# (no file of the previous report stays beside the new ones); a folder without it is another's, written file by file.
MANIFEST = ".mnist-models-files"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename.

    An ``OSError`` (no space, no permission, a folder in the way) is raised again naming ``path``, not the
    temporary file, so that the one line a command prints says which file could not be written.
    """
    path.parent.mkdir(parents=True, exist_ok=True)  # its own error names the folder in the way
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
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


def atomic_write_folder(directory: Path, files: dict[str, bytes]) -> None:
    """Write ``files`` (name -> content) into ``directory`` so that a reader sees the previous set or the new one,
    never a mix: every file is first written into a temporary sibling folder (a full disk or a permission error
    fails there, and the previous files stay as they were), then the folder takes the place of the previous one by
    renames (which need no space), so that no file of the previous set stays beside the new ones.

    Only a folder this function wrote (it lists its files in ``MANIFEST``) is replaced whole; a folder holding
    anything else (the user's own files) has each new file renamed into place and keeps the rest.
    """
    directory = Path(directory)
    directory.parent.mkdir(parents=True, exist_ok=True)
    files = {**files, MANIFEST: ("\n".join(sorted(files)) + "\n").encode()}
    stage = _temporary_folder(directory)
    try:
        for name, data in files.items():
            target = stage / name
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with open(target, "wb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            except OSError as exc:
                raise _naming(exc, directory / name) from exc
        os.chmod(stage, 0o777 & ~_umask())  # mkdtemp makes 0700; give the folder the usual permissions
        if not directory.exists():
            os.rename(stage, directory)
            return
        if _written_here(directory):
            previous = _temporary_folder(directory)
            os.rename(directory, previous / "old")  # two renames: the report is absent for a moment, never mixed
            os.rename(stage, directory)
            shutil.rmtree(previous, ignore_errors=True)
            return
        for name in files:
            (directory / name).parent.mkdir(parents=True, exist_ok=True)
            os.replace(stage / name, directory / name)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _temporary_folder(directory: Path) -> Path:
    try:
        return Path(tempfile.mkdtemp(dir=directory.parent, prefix=f".{directory.name}.", suffix=TEMP_SUFFIX))
    except OSError as exc:
        raise _naming(exc, directory) from exc


def _written_here(directory: Path) -> bool:
    """Whether ``directory`` holds nothing but what ``atomic_write_folder`` wrote there (its ``MANIFEST``)."""
    try:
        listed = set((directory / MANIFEST).read_text(encoding="utf-8").split())
        present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    except (OSError, UnicodeDecodeError):
        return False
    return present <= listed | {MANIFEST}


def clean_orphans(*folders: Path | str | None, older_than_s: float = ORPHAN_AGE_S) -> list[Path]:
    """Remove our temporary files and folders (``.<name>.<random>`` + ``TEMP_SUFFIX``; no other program's) older than
    ``older_than_s`` from each of ``folders`` (not below them): what a process killed mid-write left. Returns what
    was removed; a folder that is missing or cannot be written is left alone."""
    removed = []
    now = time.time()
    for folder in folders:
        if folder is None or not Path(folder).is_dir():
            continue
        for path in Path(folder).glob(f".*{TEMP_SUFFIX}"):
            try:
                if now - path.lstat().st_mtime < older_than_s:
                    continue  # another process may be writing it now
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path)
                else:
                    path.unlink()
                removed.append(path)
            except OSError:
                continue
    return removed


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


class Interrupted(KeyboardInterrupt):
    """SIGINT or SIGTERM, raised where the command was, so that every ``finally`` on the way out runs; the
    cleanup it passes adds what it did to ``done`` (workers stopped, a worktree removed), said in the one line."""

    def __init__(self, signal_name: str, code: int) -> None:
        super().__init__(signal_name)
        self.signal_name, self.code, self.done = signal_name, code, []


def guarded(prog: str, args: Any) -> int:
    """Run a parsed command (``args.func(args)``) under the exit-code contract: its own code, else 2 and one line
    for whatever escaped it (exit 1 means "the gate failed", never "something broke"); 130 on Ctrl-C, 143 on
    SIGTERM (where the command turns it into ``Interrupted``)."""
    func: Callable[[Any], int] = args.func
    try:
        return int(func(args))
    except KeyboardInterrupt as exc:
        stop = exc if isinstance(exc, Interrupted) else Interrupted("SIGINT", INTERRUPTED)
        print(f"{prog}: interrupted ({stop.signal_name})" + "".join(f"; {d}" for d in stop.done), file=sys.stderr)
        return stop.code
    except Exception as exc:
        if getattr(args, "debug", False):
            import traceback

            traceback.print_exc()
        print(f"{prog}: error: {describe_error(exc)}", file=sys.stderr)
        return 2
