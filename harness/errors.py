"""Errors a user can fix, printed as one line that says what, where and how to fix it."""

from __future__ import annotations

import sys
from collections.abc import Callable
from functools import wraps
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

USER_ERROR_EXIT_CODE = 2


class UserError(Exception):
    """A problem in input, configuration or the host that the user can fix.

    Never shown as a traceback: command-line entry points print `str(error)` and exit 2.
    """

    def __init__(self, what: str, *, where: str | None = None, fix: str | None = None) -> None:
        self.what = what
        self.where = where
        self.fix = fix
        super().__init__(str(self))

    def __str__(self) -> str:
        message = f"{self.where}: {self.what}" if self.where else self.what
        return f"{message} (fix: {self.fix})" if self.fix else message


def exits_cleanly_on_user_error(entry_point: Callable[P, R]) -> Callable[P, R]:
    """Wrap a CLI entry point so a UserError prints one line on stderr and exits 2."""

    @wraps(entry_point)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return entry_point(*args, **kwargs)
        except UserError as error:
            print(f"error: {error}", file=sys.stderr)
            raise SystemExit(USER_ERROR_EXIT_CODE) from None

    return wrapper
