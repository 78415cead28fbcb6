"""The package's shape: the import rule (docs/architecture.md), no module cycles, Ray Tune
only in raysearch/search, a torch-free core, and every deferred import says why."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import grimp
import pytest

import raysearch

PACKAGE = Path(raysearch.__file__).parent
REPO = PACKAGE.parent
LINT_IMPORTS = str(Path(sys.executable).with_name("lint-imports"))


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    """import-linter with the repository's contracts, on the ``raysearch`` under ``root``."""
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run(
        [LINT_IMPORTS, "--config", str(root / "pyproject.toml"), "--no-cache"],
        capture_output=True,
        text=True,
        cwd=root,
        env=env,
        check=False,
    )


def _copy(tmp_path: Path) -> Path:
    root = tmp_path / "copy"
    shutil.copytree(PACKAGE, root / "raysearch", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_import_contracts_hold() -> None:
    result = _lint_imports(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "line", "contract"),
    [
        ("core/errors.py", "import raysearch.data.prepared", "core < scoring"),  # up a layer
        ("data/raw.py", "import raysearch.losses.tasks", "core < scoring"),  # up a layer
        ("results/runs.py", "import ray.tune", "Ray is imported"),  # Ray outside search
        ("core/spec.py", "import pandas", "imports neither torch"),  # heavy core
    ],
)
def test_a_forbidden_import_breaks_a_contract(
    tmp_path: Path, module: str, line: str, contract: str
) -> None:
    root = _copy(tmp_path)
    target = root / "raysearch" / module
    target.write_text(target.read_text() + f"\n{line}  # added by the test\n")
    result = _lint_imports(root)
    assert result.returncode != 0
    broken = result.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken and module.replace("/", ".").removesuffix(".py") in broken


def _cycles(package: str) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over every import
    (deferred ones too)."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: graph.find_modules_directly_imported_by(m) for m in graph.modules}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in edges:
                continue
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_no_module_imports_itself_through_others() -> None:
    assert _cycles("raysearch") == []


def test_the_cycle_finder_finds_a_cycle(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "cyclic"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("def f():\n    from cyclic import b  # deferred\n")
    (pkg / "b.py").write_text("import cyclic.a\n")
    (pkg / "c.py").write_text("import cyclic.b\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _cycles("cyclic") == [["cyclic.a", "cyclic.b"]]


def _tune_imports(source: str) -> list[int]:
    """Lines that import Ray Tune (or its predecessor, ray.air)."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        else:
            continue
        if any(n == "ray.tune" or n.startswith(("ray.tune.", "ray.air")) for n in names):
            lines.append(node.lineno)
    return lines


def test_only_the_search_layer_imports_ray_tune() -> None:
    outside = {
        str(path.relative_to(PACKAGE)): found
        for path in PACKAGE.rglob("*.py")
        if path.relative_to(PACKAGE).parts[0] != "search"
        and (found := _tune_imports(path.read_text()))
    }
    assert outside == {}
    inside = [p for p in (PACKAGE / "search").rglob("*.py") if _tune_imports(p.read_text())]
    assert len(inside) >= 4  # the check sees the imports it is meant to find


def test_the_tune_import_finder_sees_each_form() -> None:
    forms = ["import ray.tune", "from ray import tune", "from ray.tune.search import X",
             "from ray.air.integrations.wandb import W", "import ray.air"]  # fmt: skip
    assert [bool(_tune_imports(f)) for f in forms] == [True] * len(forms)
    assert _tune_imports("import ray.train\nfrom ray import train") == []


def test_importing_the_core_imports_no_torch_ray_or_pandas() -> None:
    code = textwrap.dedent(
        """
        import sys, pkgutil, importlib
        import raysearch.core
        for m in pkgutil.iter_modules(raysearch.core.__path__):
            importlib.import_module(f"raysearch.core.{m.name}")
        heavy = sorted({n.split(".")[0] for n in sys.modules} & {"torch", "ray", "pandas"})
        print(",".join(heavy) or "none")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "none"


def _undocumented_deferred_imports(source: str) -> list[int]:
    """Imports inside a function with no comment saying it is deferred, on the import's
    line or between the function's ``def`` and the import."""
    lines = source.splitlines()
    missing = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for sub in ast.walk(node):
            if isinstance(sub, ast.Import | ast.ImportFrom):
                before = lines[node.lineno - 1 : sub.lineno]
                if not any("#" in ln and "deferred" in ln.lower() for ln in before):
                    missing.append(sub.lineno)
    return missing


def test_every_deferred_import_says_why() -> None:
    missing = {
        str(path.relative_to(PACKAGE)): found
        for path in PACKAGE.rglob("*.py")
        if (found := _undocumented_deferred_imports(path.read_text()))
    }
    assert missing == {}


def test_the_deferred_import_check_flags_a_bare_one() -> None:
    bare = "def f():\n    import torch\n    return torch\n"
    said = "def f():\n    # Deferred: torch is slow to import.\n    import torch\n"
    assert _undocumented_deferred_imports(bare) == [2]
    assert _undocumented_deferred_imports(said) == []


def test_the_layers_in_pyproject_name_every_subpackage() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["importlinter"]
    layers = next(c for c in config["contracts"] if c["id"] == "layers")["layers"]
    named = {m.strip() for layer in layers for m in layer.replace(":", "|").split("|")}
    packages = {f"raysearch.{p.name}" for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert packages <= named
