"""Committed benchmark tables are what their committed JSON renders to with today's code: a
change to how a table is computed (bench.scaling.analyse.best_at once) re-renders every
table it touches, or this fails naming the first line that differs."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bench.common import ROOT, recorded_meta

OUT = ROOT / "results" / "benchmarks"


def test_the_confirmation_ledger_renders_from_its_json_as_committed(
    as_committed: Callable[[Path, str], None],
) -> None:
    from bench.scaling.confirm import render

    data = json.loads((OUT / "scaling_confirm.json").read_text())
    text, targets = render(data)
    as_committed(OUT / "scaling_confirm.md", text)
    assert targets == data["targets"]
    index = (OUT / "README.md").read_text()  # the index quotes each target's figure
    assert all(f"| {t['figure']} |" in index for t in targets)


@pytest.mark.parametrize(
    "table",
    [
        "scaling_fresh",
        "scaling_fresh2",
        "scaling_pooled",
        "scaling_replicates",
        "scaling_replicates/scaling_fresh",
        "scaling_replicates/scaling_fresh2",
        "scaling_replicates/scaling_pooled",
    ],
)
def test_each_table_beside_the_scaling_table_renders_from_its_json_as_committed(
    table: str, as_committed: Callable[[Path, str], None]
) -> None:
    """The runs on fresh seeds, their pool and the HAN table's fresh replicates (with its
    own run on fresh seeds beside it), rendered as ``python -m bench.scaling --render
    --out`` their directory does (bench.scaling.__main__)."""
    import matplotlib.pyplot as plt

    from bench.scaling.__main__ import beside_tables
    from bench.scaling.report import render

    data = json.loads((OUT / table / "scaling.json").read_text())
    data["meta"] = recorded_meta(data["meta"], "scaling")
    text, targets, figures = render(data, beside_tables(OUT / table))
    for _, figure in figures:
        plt.close(figure)
    as_committed(OUT / table / "scaling.md", text)
    assert targets == data["targets"]


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((OUT / name).read_text()))


def _overhead() -> dict[str, str]:
    """As ``python -m bench.overhead --render``: the totals recomputed from the rows."""
    from bench.overhead import _totals, markdown, targets

    result = _load("overhead.json")
    result["meta"] = recorded_meta(result["meta"], "overhead")
    for run in result["runs"]:
        run["total"] = _totals(run["rows"])
    result["targets"] = [t.to_json() for t in targets(result)]
    return {"overhead.md": markdown(result)}


def _search() -> dict[str, str]:
    """As ``python -m bench.search --render``: search.md and parallel.md from search.json."""
    from bench.search import _load as load_search
    from bench.search import (
        analyse,
        parallel_markdown,
        parallel_targets,
        rung_rankings,
        search_markdown,
        search_targets,
    )

    result = load_search(OUT / "search.json")
    table = analyse(result)
    result["targets"] = [t.to_json() for t in search_targets(table, rung_rankings(result))]
    result["parallel_targets"] = [t.to_json() for t in parallel_targets(table, result)]
    return {
        "search.md": search_markdown(result, table),
        "parallel.md": parallel_markdown(result, table),
    }


def _hartmann() -> dict[str, str]:
    """hartmann.json keeps the analysis bench.hartmann.main wrote the table from."""
    from bench.hartmann import markdown

    data = _load("hartmann.json")
    table = {"per_method": data["per_method"], "rows": data["per_seed"], "budget": data["budget"]}
    return {"hartmann.md": markdown(data, table)}


def _model() -> dict[str, str]:
    from bench.bench_model import markdown

    return {"model.md": markdown(_load("model.json"))}


def _bookkeeping() -> dict[str, str]:
    from bench.bookkeeping import markdown

    return {"bookkeeping.md": markdown(_load("bookkeeping.json"))}


def _han_table() -> dict[str, str]:
    from bench.han_table_report import markdown

    return {"han_table.md": markdown(_load("han_table.json"))}


def _val_schemes() -> dict[str, str]:
    from bench.val_schemes import render

    return {"val_schemes_war_losses.md": render(_load("val_schemes_war_losses.json"))}


def _finalist_margins() -> dict[str, str]:
    from bench.finalist_margins import markdown

    data = _load("finalist_margins.json")
    return {"finalist_margins.md": markdown(data["rows"], data["meta"])}


def _data() -> dict[str, str]:
    from bench.bench_data import _markdown

    result = _load("data.json")
    return {"data.md": _markdown(result["rows"], result["meta"])}


def _fair_splits() -> dict[str, str]:
    """As ``python -m bench.fair_splits --render``: from each generator's own result."""
    from bench.fair_splits import markdown, measured

    results = measured(OUT / "fair_splits")
    assert results == _load("fair_splits.json")["generators"]  # the JSON beside the table
    return {"fair_splits.md": markdown(results)}


def _parquet_exit() -> dict[str, str]:
    from bench.parquet_exit import markdown

    summary = _load("parquet_exit.json")
    meta = summary.pop("meta")
    return {"parquet_exit.md": markdown(summary, meta)}


def _scaling_anatomy() -> dict[str, str]:
    """As ``python -m bench.scaling.anatomy --render``."""
    from bench.scaling.anatomy import render

    return {"scaling_anatomy.md": render(_load("scaling_anatomy.json"))}


RENDERS: dict[str, Callable[[], dict[str, str]]] = {
    "overhead": _overhead,
    "search": _search,
    "hartmann": _hartmann,
    "model": _model,
    "bookkeeping": _bookkeeping,
    "han_table": _han_table,
    "val_schemes": _val_schemes,
    "finalist_margins": _finalist_margins,
    "parquet_exit": _parquet_exit,
    "fair_splits": _fair_splits,
    "scaling_anatomy": _scaling_anatomy,
    "data": _data,
}


@pytest.mark.parametrize("benchmark", sorted(RENDERS))
def test_each_benchmark_table_renders_from_its_json_as_committed(
    benchmark: str, as_committed: Callable[[Path, str], None]
) -> None:
    """Every other table whose committed JSON holds what it is written from."""
    for name, text in RENDERS[benchmark]().items():
        as_committed(OUT / name, text)


# Where scaling.md's and the README's prose quote a confirmation's verdict from the ledger
# (the text is written in the notes, not computed from scaling_confirm.json): (the
# candidate, the first of its fresh seeds) -> how each file words its runs better, worse
# and p.
QUOTED = {
    ("gated_asha_lazy", 20): {
        "scaling.md": "better in {better} runs and worse in {worse} (p = {p})",
        "README": "better\nin {better} runs and worse in {worse} (p = {p};",
    },
    ("gated_chain", 100): {"scaling.md": "{better} runs better and {worse} worse, p = {p}"},
    ("gated_defer", 120): {
        "scaling.md": "{better} runs better and {worse} worse, p = {p}",
        "README": "deferring the unmeasured stops, {better} and {worse} (p = {p})",
    },
}


def test_the_ledger_verdicts_the_prose_quotes_are_the_ledgers() -> None:
    """A confirmation measured again (``confirm --again``) changes its verdict in
    scaling_confirm.md; the prose that quotes it must follow."""
    import re

    data = json.loads((OUT / "scaling_confirm.json").read_text())
    texts = {
        "scaling.md": (OUT / "scaling.md").read_text(),
        "README": (ROOT / "README.md").read_text(),
    }
    verdicts = {
        (c["method"], c["seeds"][0]): t["figure"]
        for c, t in zip(data["confirmations"], data["targets"], strict=True)
    }
    for key, wordings in QUOTED.items():
        found = re.fullmatch(r"\w+ in (\d+) runs, \w+ in (\d+), p = (\S+)", verdicts[key])
        assert found, f"{key}: the ledger's figure {verdicts[key]!r} is not runs and p"
        better, worse, p = found.groups()
        for where, wording in wordings.items():
            said = wording.format(better=better, worse=worse, p=p)
            assert said in texts[where], f"{where} does not quote {key}'s verdict as {said!r}"


def test_the_model_tables_parameter_counts_are_todays_models() -> None:
    """model.md times each preset of the model as it was; a change to the model that
    changes its size leaves the table describing another model until it is run again."""
    import torch

    from bench.bench_model import SPEC
    from raysearch.core.model_config import ModelConfig
    from raysearch.model.han import build_model

    for row in _load("model.json")["rows"]:
        torch.manual_seed(0)
        model = build_model(SPEC, ModelConfig(size=row["size"]))
        now = sum(p.numel() for p in model.parameters())
        assert row["parameters"] == now, (
            f"model.md's {row['size']} has {row['parameters']:,} parameters, today's model "
            f"{now:,}: run python -m bench model again"
        )


# Where the prose quotes a confirmation's figures by benchmark: (file, the quote with its
# figures as groups, the ledger section that holds them, how that section words them)
QUOTED_IN_SECTION = [
    (
        "README",
        r"on the HAN table (\d+) and (\d+), where",
        "`gated_asha_lazy`: seeds 20-29",
        "han {0} better, {1} worse",
    ),
    (
        "scaling.md",
        r"LCBench 167168 (\d+) better and (\d+) worse, LCBench 189873",
        "`gated_chain`: seeds 100-109",
        "lcbench-167168 {0} better, {1} worse",
    ),
    (
        "scaling.md",
        r"LCBench 189873 (\d+) better and (\d+) worse\), and did not",
        "`gated_chain`: seeds 100-109",
        "lcbench-189873 {0} better, {1} worse",
    ),
    (
        "scaling.md",
        r"k = 64 (\d+)x, the default (\d+\.\d)x; both reached",
        "`gated_defer`, speed-ups: seeds 130-139",
        "| han | 64 | 10/10 | {1}x | 10/10 | {0}.",
    ),
]


@pytest.mark.parametrize("where, quote, section, worded", QUOTED_IN_SECTION)
def test_the_ledger_figures_the_prose_quotes_by_benchmark_are_the_ledgers(
    where: str, quote: str, section: str, worded: str
) -> None:
    import re

    text = (OUT / "scaling.md" if where == "scaling.md" else ROOT / "README.md").read_text()
    found = re.findall(quote, text)
    assert len(found) == 1, f"{where} quotes {quote!r} {len(found)} times, not once"
    ledger = (OUT / "scaling_confirm.md").read_text()
    start = ledger.index(f"\n## {section}\n")
    body = ledger[start : ledger.find("\n## ", start + 1)]
    said = worded.format(*found[0])
    assert said in body, f"{where}'s figures {found[0]} are not the ledger's ({said!r})"
