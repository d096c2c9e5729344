"""The one error a request can cause: a message naming the field at fault, and its HTTP status."""

from __future__ import annotations


class V2Error(Exception):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
