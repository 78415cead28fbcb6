"""What the benchmark tests share: the check that a committed table is its render."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from bench.common import ROOT


def _check_as_committed(path: Path, text: str) -> None:
    """Fail unless ``text``, as ``bench.common.write_outputs`` writes it (with a final
    newline), is ``path``'s committed text, naming the first line that differs or, when one
    text runs on past the other, the first line only it has."""
    rendered = text if text.endswith("\n") else text + "\n"
    committed = path.read_text()
    where = path.relative_to(ROOT)
    ours, theirs = committed.splitlines(), rendered.splitlines()
    # line for line as far as both go; what one has past the other's end, next
    for number, (line, drawn) in enumerate(zip(ours, theirs, strict=False), start=1):
        assert line == drawn, (
            f"{where} line {number} is not its render's: committed {line[:200]!r}, "
            f"rendered {drawn[:200]!r}"
        )
    longer, who = (
        (ours, "the committed file") if len(ours) > len(theirs) else (theirs, "the render")
    )
    extra = longer[min(len(ours), len(theirs)) :]
    assert not extra, (
        f"{where} has {len(ours)} lines, its render {len(theirs)}; the first line only "
        f"{who} has: {extra[0][:200]!r}"
    )
    assert committed == rendered, f"{where} differs from its render in its line breaks only"


@pytest.fixture
def as_committed() -> Callable[[Path, str], None]:
    """``check(path, text)``: fails unless ``text`` is ``path``'s committed text, line for
    line, naming the first line that differs (a committed table against its render from the
    committed JSON with today's code)."""
    return _check_as_committed
