"""Domain errors raised by the fake's model and turned into HTTP answers.

The real API looks like Django REST Framework, so the bodies follow DRF's
conventions: ``{"detail": "..."}`` for request-level problems and
``{"field": ["..."]}`` for field validation.
"""

from __future__ import annotations

from typing import Any

__all__ = ["ApiError", "Conflict", "FieldError", "NotFound", "ValidationFailed"]


class ApiError(Exception):
    """An error with the HTTP status and JSON body the API answers with."""

    status: int = 400

    def __init__(self, body: dict[str, Any], status: int | None = None) -> None:
        super().__init__(body)
        self.body = body
        if status is not None:
            self.status = status


class ValidationFailed(ApiError):
    """400 with a ``detail`` message (a rule was broken, not a field's format)."""

    status = 400

    def __init__(self, detail: str) -> None:
        super().__init__({"detail": detail})


class FieldError(ApiError):
    """400 keyed by the offending field, DRF style."""

    status = 400

    def __init__(self, field: str, message: str) -> None:
        super().__init__({field: [message]})
        self.field = field


class NotFound(ApiError):
    status = 404

    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__({"detail": detail})


class Conflict(ApiError):
    status = 409

    def __init__(self, detail: str) -> None:
        super().__init__({"detail": detail})
