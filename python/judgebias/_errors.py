"""The exceptions judgebias raises: one small hierarchy under :class:`Error`."""
from __future__ import annotations

from typing import Optional


class Error(Exception):
    """Base of every exception judgebias raises."""


class FormatError(Error, ValueError):
    """An input record that is not valid FORMAT v1 (or an importer's format).

    ``path`` is the file (``"<records>"`` for records given as dicts or a DataFrame), ``line`` and
    ``column`` are 1-based as in the binary's ``path:line:column`` message (for records, ``line`` is the
    record's index + 1 and ``index`` the index), ``reason`` a stable key such as ``"missing_field"``.
    """

    def __init__(self, message: str, path: str, line: int, column: int, reason: str) -> None:
        self.message = message
        self.path = path
        self.line = line
        self.column = column
        self.reason = reason
        self.index: Optional[int] = line - 1 if path == RECORDS else None
        where = f"record {self.index}" if self.index is not None else f"{path}:{line}:{column}"
        super().__init__(f"{where}: {message}")


class UsageError(Error, ValueError):
    """A bad argument: an unknown module, a confidence outside (0, 1), a malformed gate..."""


class DataError(Error):
    """The input as a whole is unusable: no records, a file that is not a judgebias report."""


class FileError(Error, OSError):
    """A file could not be opened, read or written."""


RECORDS = "<records>"
