"""The data's two failures: what a user must fix (``DataError``) and what was rebuilt with a warning."""

from __future__ import annotations


class DataError(RuntimeError):
    """The data is missing, corrupt or unobtainable; the message says which file and what to do."""


class DataWarning(UserWarning):
    """A kept file failed its check and is being made again from the verified raw files; the message names it."""
