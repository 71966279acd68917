"""bouncekit's exceptions.

Every error raised by bouncekit is a :class:`BouncekitError`. There is one
subclass per ``absl::StatusCode`` of the C++ core, and each subclass also
derives from the matching builtin, so ordinary ``except ValueError`` code keeps
working::

    >>> import bouncekit
    >>> try:
    ...     bouncekit.parse_status("5.1")
    ... except ValueError as e:
    ...     print(type(e).__name__, e.code)
    InvalidArgumentError 3

Where the core knows *where* the problem is, the exception says so in
attributes: ``row`` (0-based input row), ``column`` (table column name),
``field`` (a field of a record or file), ``line``/``text_column`` (1-based
position in a text file) and ``source`` (file name).
"""

from __future__ import annotations

from typing import Optional

__all__ = [
    "BouncekitError",
    "CancelledError",
    "UnknownError",
    "InvalidArgumentError",
    "DeadlineExceededError",
    "NotFoundError",
    "AlreadyExistsError",
    "PermissionDeniedError",
    "ResourceExhaustedError",
    "FailedPreconditionError",
    "AbortedError",
    "OutOfRangeError",
    "UnimplementedError",
    "InternalError",
    "UnavailableError",
    "DataLossError",
    "UnauthenticatedError",
    "error_for_code",
]


class BouncekitError(Exception):
    """Base class of every bouncekit error.

    Attributes:
        code: the ``absl::StatusCode`` number of the error.
        row: 0-based input row, when the error is about one row.
        column: the table column involved, when known.
        field: the record or file field involved, when known.
        line: 1-based line in a text source (rule or policy file).
        text_column: 1-based character column on that line.
        source: the file or source name.
    """

    code: int = 2

    def __init__(
        self,
        message: str,
        *,
        code: Optional[int] = None,
        row: Optional[int] = None,
        column: Optional[str] = None,
        field: Optional[str] = None,
        line: Optional[int] = None,
        text_column: Optional[int] = None,
        source: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.row = row
        self.column = column
        self.field = field
        self.line = line
        self.text_column = text_column
        self.source = source

    def __str__(self) -> str:
        return self.message

    def __reduce__(self):  # type: ignore[no-untyped-def]
        kwargs = {k: getattr(self, k) for k in ("code", "row", "column", "field", "line",
                                                "text_column", "source")}
        return (_rebuild, (type(self), self.message, kwargs))


def _rebuild(cls: type, message: str, kwargs: dict) -> "BouncekitError":  # type: ignore[type-arg]
    return cls(message, **kwargs)  # type: ignore[no-any-return]


class CancelledError(BouncekitError, RuntimeError):
    """The operation was cancelled (for example by Ctrl-C)."""
    code = 1


class UnknownError(BouncekitError, RuntimeError):
    """An error the core could not classify."""
    code = 2


class InvalidArgumentError(BouncekitError, ValueError):
    """Bad input: a wrong dtype, a malformed rule or policy, a bad parameter."""
    code = 3


class DeadlineExceededError(BouncekitError, TimeoutError):
    """A deadline passed before the operation finished."""
    code = 4


class NotFoundError(BouncekitError, KeyError):
    """Something named does not exist: a column, a profile, a preset, a file."""
    code = 5


class AlreadyExistsError(BouncekitError, FileExistsError):
    """Something to be created already exists."""
    code = 6


class PermissionDeniedError(BouncekitError, PermissionError):
    """The operation is not allowed (for example a file is not writable)."""
    code = 7


class ResourceExhaustedError(BouncekitError, MemoryError):
    """A memory or size limit was reached."""
    code = 8


class FailedPreconditionError(BouncekitError, RuntimeError):
    """The system is not in a state to do this (for example an incompatible state file)."""
    code = 9


class AbortedError(BouncekitError, RuntimeError):
    """The operation was aborted (for example a concurrent change)."""
    code = 10


class OutOfRangeError(BouncekitError, ValueError):
    """A value is outside the accepted range."""
    code = 11


class UnimplementedError(BouncekitError, NotImplementedError):
    """The requested feature is not implemented."""
    code = 12


class InternalError(BouncekitError, RuntimeError):
    """A bug in bouncekit: please report it."""
    code = 13


class UnavailableError(BouncekitError, RuntimeError):
    """A resource is temporarily unavailable."""
    code = 14


class DataLossError(BouncekitError, OSError):
    """Data is corrupt or was lost (for example a damaged state file)."""
    code = 15


class UnauthenticatedError(BouncekitError, PermissionError):
    """Missing or bad credentials."""
    code = 16


_BY_CODE = {
    cls.code: cls
    for cls in (CancelledError, UnknownError, InvalidArgumentError, DeadlineExceededError,
                NotFoundError, AlreadyExistsError, PermissionDeniedError,
                ResourceExhaustedError, FailedPreconditionError, AbortedError,
                OutOfRangeError, UnimplementedError, InternalError, UnavailableError,
                DataLossError, UnauthenticatedError)
}


def error_for_code(code: int) -> type[BouncekitError]:
    """The exception class for an ``absl::StatusCode`` number.

    >>> error_for_code(3).__name__
    'InvalidArgumentError'
    """
    return _BY_CODE.get(code, UnknownError)
