"""Argument parsing shared by raysearch's command-line entry points."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["StrictParser", "non_negative_int", "positive_int"]


class StrictParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors list every valid flag (unknown flags are errors).

    Abbreviations are off: ``--num-sample`` is a typo to report, not ``--num-samples``.
    """

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]

    def error(self, message: str) -> NoReturn:
        flags = sorted({s for a in self._actions for s in a.option_strings if s.startswith("--")})
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nvalid flags: {', '.join(flags)}\n")


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value
