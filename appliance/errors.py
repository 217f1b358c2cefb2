"""Domain exceptions and how the ``qbox`` command maps them to exit codes.

``BadInput`` (exit 2) is the user's to fix: a wrong argument, an invalid file.
``QboxError`` (exit 1) is anything else that failed.  Both carry a one-line message.
"""
from __future__ import annotations

__all__ = ["QboxError", "BadInput", "EXIT_OK", "EXIT_FAILURE", "EXIT_BAD_INPUT"]

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_BAD_INPUT = 2


class QboxError(Exception):
    """Something failed; the message is one line meant for the operator."""

    exit_code = EXIT_FAILURE

    def lines(self) -> list[str]:
        """What the ``qbox`` command prints to stderr for this error."""
        return [f"qbox: {self}"]


class BadInput(QboxError):
    """The input (arguments, a file, a request) is wrong; nothing was changed."""

    exit_code = EXIT_BAD_INPUT
