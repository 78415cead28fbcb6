"""Argument parsing shared by raysearch's command-line entry points."""

from __future__ import annotations

import argparse
import itertools
import math
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping
from typing import Any, NoReturn

from raysearch.core.errors import close_names, did_you_mean

__all__ = [
    "StrictParser",
    "duration",
    "flag_named",
    "int_at_least",
    "int_between",
    "non_negative_float",
    "non_negative_int",
    "path",
    "positive_int",
]


def _commands(parser: argparse.ArgumentParser) -> tuple[str, list[tuple[str, str]]] | None:
    """The sub-commands of ``parser``: their argument's name as argparse's errors say it,
    and each command's name (not its aliases) and help; None without sub-commands."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = argparse._get_action_name(action) or action.dest
            return name, [(a.dest, a.help or "") for a in action._choices_actions]
    return None


class StrictParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors list every valid flag where a flag is unknown or
    missing, name the flag an unknown one likely misspells, and say the unknown ones
    beside a missing one; a known flag's bad value is one line naming it and the value.

    Abbreviations are off: ``--num-sample`` is a typo to report, not ``--num-samples``.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)
        self._given: list[str] = []  # the arguments parse_known_args was given last

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """argparse's, but flags no parser knows are reported by the sub-command's parser
        (``raysearch data synth OUT --bogus`` lists synth's flags, not ``data``'s)."""
        parsed, unknown = self.parse_known_args(args, namespace)
        if unknown:
            argv = list(sys.argv[1:] if args is None else args)
            chosen = _chosen(self, parsed, argv, unknown)
            chosen.error(_unrecognized(chosen, unknown))
        return parsed

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        # kept for an error that a required argument is missing, to name those this parser
        # does not know too (argparse stops at the missing one)
        self._given = list(sys.argv[1:] if args is None else args)
        if (misplaced := _before_command(self, self._given)) is not None:
            self.print_usage(sys.stderr)
            self.exit(2, f"{self.prog}: error: {misplaced}\n")
        return super().parse_known_args(args, namespace)

    def _unknown(self) -> list[str]:
        """The arguments this parser was given that it does not know: what argparse says
        is unrecognised once nothing is missing, found by parsing them again with no
        argument, and no group of them, required."""
        required: list[Any] = [a for a in self._actions if a.required]
        required += [g for g in self._mutually_exclusive_groups if g.required]
        for item in required:
            item.required = False
        try:
            return list(super().parse_known_args(self._given)[1])
        finally:
            for item in required:
                item.required = True

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument "):  # argparse's words for a known flag's bad value
            self.exit(2, f"{self.prog}: error: {message} ({self.prog} --help: every flag)\n")
        commands = _commands(self)
        if commands and message == f"the following arguments are required: {commands[0]}":
            self.print_usage(sys.stderr)  # `raysearch data` alone: which commands there are
            listed = "".join(f"\n  {name:<18} {text}" for name, text in commands[1])
            self.exit(2, f"{self.prog}: error: give a command:{listed}\n")
        missing = ("the following arguments are required: ", "one of the arguments ")
        if message.startswith(missing) and (unknown := self._unknown()):
            # both at once: `spaces export smoke --fromat wandb` said only that --format was
            message += f"; {_unrecognized(self, unknown)}"
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\nvalid flags: {', '.join(_flags(self))}\n")


def _flags(parser: argparse.ArgumentParser) -> list[str]:
    """The long flags ``parser`` takes, sorted."""
    return sorted({s for a in parser._actions for s in a.option_strings if s.startswith("--")})


def _unrecognized(parser: argparse.ArgumentParser, unknown: list[str]) -> str:
    """argparse's 'unrecognized arguments: ...', with the flag that each unknown one
    likely misspells (``--fromat``: did you mean '--format'?)."""
    # compared without the dashes every flag shares, which made --bogus close to --out
    names = [flag[2:] for flag in _flags(parser)]
    hints = [
        f"{given}: {did_you_mean([f'--{name}' for name in close])}"
        for given in dict.fromkeys(u.split("=", 1)[0] for u in unknown if u.startswith("--"))
        if (close := [n for n in close_names(given[2:], names) if n != given[2:]])
    ]  # a flag this parser knows, unknown where it stands (after --), is no misspelling
    return f"unrecognized arguments: {' '.join(unknown)}" + (
        f" ({'; '.join(hints)})" if hints else ""
    )


def _before_command(parser: argparse.ArgumentParser, argv: list[str]) -> str | None:
    """The problem of a sub-command's flags given before its name (``raysearch spaces
    --format=wandb export smoke``), which argparse hands to ``parser``: it said the flag
    was missing, or took the flag's value for the command (``invalid choice: '3'``). None
    where no flag before the command is one of the command's, or a likely misspelling of
    one, or ``parser`` has no sub-commands."""
    commands = next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)
    if commands is None:
        return None
    given = argv[: argv.index("--")] if "--" in argv else argv
    at = next((i for i, token in enumerate(given) if token in commands.choices), None)
    if at is None:
        return None
    own = {s for a in parser._actions for s in a.option_strings}
    theirs = _flags(commands.choices[given[at]])
    stray = [t.split("=", 1)[0] for t in given[:at] if t.startswith("-")]
    stray = [flag for flag in stray if flag not in own]
    named = [
        flag if flag in theirs else f"{flag} ({did_you_mean(close)})"
        for flag in stray
        if flag in theirs or (close := close_names(flag, theirs))
    ]
    if not named or len(named) < len(stray):
        return None  # a flag no command knows: argparse's unknown flag, said as it is
    before = [t for t in given[:at] if t not in own and t.split("=", 1)[0] not in own]
    kept = [t for t in argv[:at] if t not in before]
    reordered = [*kept, given[at], *before, *argv[at + 1 :]]
    return (
        f"{', '.join(named)} came before the command {given[at]!r}: a command's flags go "
        f"after its name, as in: {shlex.join([*parser.prog.split(), *reordered])}"
    )


def _chosen(
    parser: argparse.ArgumentParser, parsed: argparse.Namespace, argv: list[str], unknown: list[str]
) -> argparse.ArgumentParser:
    """The parser of the sub-command ``parsed`` chose (its own sub-command's, and so on)
    after whose name in ``argv`` every ``unknown`` argument came; ``parser`` itself where
    it has none, or one came before its name (``raysearch data --bogus synth``: not a
    flag of ``data``)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            name = getattr(parsed, action.dest, None)
            chosen = action.choices.get(name or "")
            if chosen is not None and name in argv:
                after = argv[argv.index(name) + 1 :]
                if all(u in after for u in unknown):
                    return _chosen(chosen, parsed, after, unknown)
    return parser


def flag_named(problems: Iterable[str], flags: Mapping[str, str]) -> list[str]:
    """Each problem ``field: why`` whose field one of ``flags`` (field -> flag) sets, named
    by the flag, as the user gives it, and the field: ``--lr (trainer.lr): why``; the
    others as they are."""
    named = []
    for problem in problems:
        field, _, why = problem.partition(": ")
        flag = flags.get(field)
        named.append(f"{flag} ({field}): {why}" if flag else problem)
    return named


def _int_in(low: int, high: int | None, expected: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {expected}, got {text!r}") from None
        if value < low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {expected}, got {value}")
        return value

    return parse


def int_at_least(low: int) -> Callable[[str], int]:
    """An argparse type: an integer >= ``low`` (a bound kept elsewhere, e.g. RunOptions')."""
    return _int_in(low, None, "a positive integer" if low == 1 else f"an integer >= {low}")


def int_between(low: int, high: int) -> Callable[[str], int]:
    """An argparse type: an integer from ``low`` to ``high``, both included."""
    return _int_in(low, high, f"an integer from {low} to {high}")


def path(text: str) -> str:
    """A file or directory as given, never empty: argparse's ``type=Path`` takes ``''`` as
    ``Path('.')``, the working directory, which the user did not name."""
    if not text:
        raise argparse.ArgumentTypeError(
            "expected a path, got '' (an empty path would be taken as the working directory)"
        )
    return text


positive_int = int_at_least(1)
non_negative_int = int_at_least(0)


def non_negative_float(text: str) -> float:
    """A finite number >= 0 (seconds, say)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {text!r}")
    return value


_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)([smhd]?)")


def duration(text: str) -> float:
    """Seconds from a duration: a number of seconds (``600``), or numbers with units s, m,
    h, d written together (``90s``, ``45m``, ``8h``, ``1h30m``); more than 0."""
    spelled = text.strip().lower()
    parts = _DURATION.findall(spelled)
    if (
        not spelled
        or "".join(a + u for a, u in parts) != spelled
        or (len(parts) > 1 and any(not u for _, u in parts))
        # each unit once, largest first: 10m10m or 30m1h is a typo, not 20 or 90 minutes
        or any(_UNITS[a] <= _UNITS[b] for (_, a), (_, b) in itertools.pairwise(parts))
    ):
        raise argparse.ArgumentTypeError(
            f"expected a duration such as 600 (seconds), 45m, 8h or 1h30m, got {text!r}"
        )
    seconds = sum(float(amount) * _UNITS[unit] for amount, unit in parts)
    if not math.isfinite(seconds) or seconds <= 0:
        raise argparse.ArgumentTypeError(f"expected a duration above 0, got {text!r}")
    return seconds
