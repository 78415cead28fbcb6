"""The tests README.md and docs/ name as a behaviour's evidence exist: a test file
(``cli/test_curves.py``, under tests/) and, where named, the test in it
(``integration/test_faults.py::test_...``). A renamed test had left README's table of faults
naming one that no longer existed."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMED = re.compile(r"(?<![\w/.])(?:tests/)?((?:\w+/)*test_\w+\.py)(?:::(test_\w+))?")


def named_tests(text: str) -> set[tuple[str, str | None]]:
    """(file under tests/, test name or None) for each test the text names."""
    return {(m.group(1), m.group(2)) for m in NAMED.finditer(text)}


def test_the_pattern_finds_a_file_and_a_test_with_or_without_tests_prefix() -> None:
    text = "see `integration/test_faults.py::test_a_b`, tests/test_api.py and x.test_y.py"
    assert named_tests(text) == {("integration/test_faults.py", "test_a_b"), ("test_api.py", None)}


def test_every_test_the_documents_name_exists() -> None:
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    named = {(doc.name, *ref) for doc in documents for ref in named_tests(doc.read_text())}
    assert len(named) > 20  # the pattern finds them (README's fault table names dozens)
    missing = []
    for doc, file, test in sorted(named, key=str):
        path = REPO / "tests" / file
        if not path.is_file():
            missing.append(f"{doc}: tests/{file}")
        elif test and not re.search(rf"^(async )?def {test}\(", path.read_text(), re.M):
            missing.append(f"{doc}: tests/{file}::{test}")
    assert not missing, missing
