"""Errors raised by services, carrying a message fit to show the user."""

from __future__ import annotations


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
