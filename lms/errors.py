"""Errors raised by services, carrying a message fit to show the user."""

from __future__ import annotations

from dataclasses import dataclass


class ServiceError(Exception):
    """A refused action; ``str(error)`` is already translated for the user."""

    def __init__(self, message: str, *, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details or []

    def __str__(self) -> str:
        return str(self.message)


class NotFound(ServiceError):
    pass


class Forbidden(ServiceError):
    pass


@dataclass(frozen=True)
class FormatIssue:
    """One problem in an uploaded or imported file, located for the author."""

    file: str
    line: int | None
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.message}"


class FormatError(ServiceError):
    """A file (course, quiz, CSV) that cannot be accepted; ``issues`` says where and why."""

    def __init__(self, issues: list[FormatIssue]) -> None:
        super().__init__("; ".join(str(i) for i in issues[:5]))
        self.issues = issues
