"""Where the default's time to a table benchmark's target goes (python -m bench.scaling.anatomy).

The speed-up targets ask how much sooner k trials at once reach the default's median regret
at k=1. On a table benchmark that target is a value some of the table's recorded curves
reach (a configuration trained with one training seed) and most never do. This runs each of
the default's reach runs in scaling.json on such a benchmark again (each must end as its
record did: same time, same verdict), and splits its time to the target in three: until the
trial that reached it started, that trial's own epochs to it, and the time it spent paused.
Beside them: how many trials before it had drawn a configuration that can reach the target,
and why those did not (their training seed's curve never gets there, the scheduler stopped
them, or they were still training); and the fastest any search could get there at any k
(the first curve to reach it, run from the first second), so the speed-up no search could
beat on the benchmark.

A candidate measured against the default's k=1 target (``--methods``) is split beside it.

    python -m bench.scaling.anatomy                # the HAN table, from results/benchmarks
    python -m bench.scaling.anatomy --methods spread_start   # and a candidate's runs
    python -m bench.scaling.anatomy --render       # re-render from scaling_anatomy.json
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from bench.common import (
    OUT,
    base_meta,
    header,
    markdown_table,
    recorded_meta,
    refuse,
    write_outputs,
)
from bench.scaling.analyse import SPEEDUP_TARGETS, Record, reach_against
from bench.scaling.benchmarks import TABLES
from bench.scaling.grid import Job, simulate_job
from bench.scaling.methods import DEFAULT, METHODS

__all__ = ["Able", "anatomy_rows", "dissect", "fastest", "figure", "reach_runs", "render"]

PROG = "python -m bench.scaling.anatomy"
NAME = "scaling_anatomy"


@dataclass(frozen=True)
class Able:
    """A curve of the table that reaches the target: its configuration's lookup key, the
    curve's index among the configuration's seeds, its first epoch at or below the target
    and the simulated seconds to the end of that epoch from a worker taking the trial."""

    key: tuple[Any, ...]
    seed: int
    epoch: int
    seconds: float


def fastest(source: Any, target: float, start_s: float = 0.0) -> list[Able]:
    """Every curve of the table ``source`` that reaches ``target``, the fastest first. A
    trial given seed s trains the curve ``source.curve(config, s)`` (the seeds' curves in
    turn), so the curves are read through it, as a search reads them."""
    seeds = int(source.frame["seed"].nunique())
    able = []
    for config in source.configurations:
        for s in range(seeds):
            curve = source.curve(config, s)
            hit = [i for i, v in enumerate(curve.values) if v <= target]
            if hit:
                e = hit[0] + 1
                able.append(
                    Able(source.key(config), s, e, start_s + float(curve.seconds[:e].sum()))
                )
    return sorted(able, key=lambda a: (a.seconds, a.key, a.seed))


def dissect(result: Any, source: Any, target: float) -> dict[str, Any]:
    """One simulated run (``result`` on the table ``source``) that stopped at ``target``:
    the trial that reached it (its number, when it started, its own epochs' seconds to the
    target, the seconds it spent paused), and the trials before it that drew a
    configuration some curve of which reaches the target, by why they did not reach it
    first: ``other_seed`` (their curve never does), ``stopped`` (the scheduler ended them
    before they did) or ``training`` (still running or paused when the target fell); and,
    reached or not, the first trial that drew such a configuration (``first_able``)."""
    able = {a.key for a in fastest(source, target)}
    epochs = result.epochs
    hits = epochs[epochs["value"] <= target]
    trials = result.trials.set_index("trial")
    # the first trial to draw a configuration that can reach the target, with any seed
    first = next((n for n, c in enumerate(result.configs) if source.key(c) in able), None)
    if hits.empty:
        return {
            "reached": False,
            "end": float(result.end),
            "started": len(result.configs),
            "first_able": first,
        }
    winner = int(hits["trial"].iloc[0])
    row = trials.loc[winner]
    why = {"other_seed": 0, "stopped": 0, "training": 0}
    for number in range(winner):
        config = result.configs[number]
        if source.key(config) not in able:
            continue
        curve = source.curve(config, int(trials.loc[number, "curve_seed"]))
        if not any(v <= target for v in curve.values):
            why["other_seed"] += 1
        elif bool(trials.loc[number, "stopped"]) and not bool(trials.loc[number, "cut"]):
            why["stopped"] += 1
        else:
            why["training"] += 1
    start, paused = float(row["start"]), float(row["paused_s"])
    return {
        "reached": True,
        "end": float(result.end),
        "winner": winner,
        "start": start,
        "paused": paused,
        "trained": float(result.end) - start - paused,
        "drawn_before": why,
        "first_able": first,
    }


def reach_runs(scaling: dict[str, Any], bench: str, method: str = DEFAULT) -> list[Record]:
    """``method``'s reach runs on ``bench`` against the default's k=1 target and time (the
    default's own; a candidate's whose baseline is the default)."""
    return sorted(
        (
            r
            for r in scaling.get("reach", [])
            if r["bench"] == bench and r["method"] == method and reach_against(r) == DEFAULT
        ),
        key=lambda r: (r["workers"], r["seed"]),
    )


def _job(record: Record) -> Job:
    """The job that made a reach record (its ``trials`` is the count it started: a reach
    job sets none)."""
    names = {f.name for f in fields(Job)} - {"trials"}
    return Job(**{n: record[n] for n in names if n in record})


def _again(records: list[Record]) -> list[dict[str, Any]]:
    """Each reach run simulated again and dissected; refused (exit 2) where one does not
    end as its record did, as it would on another recording of the table or other code."""
    dissected = []
    for i, record in enumerate(records, 1):
        job = _job(record)
        source, result, _ = simulate_job(job)
        if bool(result.reached) != record["reached"] or round(result.end, 2) != round(
            record["end"], 2
        ):
            refuse(
                PROG,
                f"{job.method}'s reach run on {job.bench} at k={job.workers}, seed {job.seed} "
                "ended at "
                f"{result.end:.2f} s (reached: {result.reached}), its record in scaling.json at "
                f"{record['end']:.2f} s (reached: {record['reached']}): measure scaling's "
                "reach runs again on this code and table first",
            )
        print(f"{PROG}: {i}/{len(records)} k={job.workers} seed {job.seed}", flush=True)
        dissected.append(
            {
                "method": job.method,
                "workers": job.workers,
                "seed": job.seed,
                **dissect(result, source, record["target"]),
            }
        )
    return dissected


def anatomy_rows(runs: list[dict[str, Any]], t1: float, ceiling: float) -> list[dict[str, Any]]:
    """Per k, medians over the seeds that reached the target (and how many did); the
    time to the target and the first draw of a configuration that can reach it, over all
    seeds (never: inf)."""
    rows = []
    for k in sorted({r["workers"] for r in runs}):
        at = [r for r in runs if r["workers"] == k]
        won = [r for r in at if r["reached"]]
        times = [r["end"] if r["reached"] else math.inf for r in at]
        tk = statistics.median(times)

        def med(key: str, runs: list[dict[str, Any]] = won) -> float:
            return statistics.median(r[key] for r in runs) if runs else math.nan

        def drawn(why: str, runs: list[dict[str, Any]] = won) -> float:
            return statistics.median(r["drawn_before"][why] for r in runs) if runs else math.nan

        rows.append(
            {
                "workers": k,
                "reached": f"{len(won)}/{len(at)}",
                "seconds": tk,
                "speedup": t1 / tk,
                "target_seconds": t1 / SPEEDUP_TARGETS[k] if k in SPEEDUP_TARGETS else math.nan,
                "start": med("start"),
                "trained": med("trained"),
                "paused": med("paused"),
                "winner": med("winner"),
                "other_seed": drawn("other_seed"),
                "stopped": drawn("stopped"),
                "training": drawn("training"),
                "first_able": statistics.median(
                    math.inf if r["first_able"] is None else r["first_able"] for r in at
                ),
                "ceiling": t1 / ceiling,
            }
        )
    return rows


def _s(seconds: float) -> str | None:
    """Simulated seconds as the tables show them: blank where there are none."""
    if math.isnan(seconds):
        return None
    return "not reached" if math.isinf(seconds) else f"{seconds:,.1f}"


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    """A row of ``anatomy_rows`` as the table shows it."""
    return {
        **row,
        **{k: _s(row[k]) for k in ("seconds", "target_seconds", "start", "trained", "paused")},
        **{k: f"{row[k]:.1f}x" for k in ("speedup", "ceiling")},
        **{k: f"{row[k]:g}" for k in ("winner", "other_seed", "stopped", "training")},
        "first_able": "never" if math.isinf(row["first_able"]) else f"{row['first_able']:g}",
    }


def _reading(
    runs: list[dict[str, Any]], rows: list[dict[str, Any]], one: dict[str, Any]
) -> list[str]:
    """What the rows say: whether the scheduler cost the winners anything, and at each k
    with a speed-up target, by when the winner had to start to meet it (``one``: the
    default's k=1 row)."""
    won = [r for r in runs if r["reached"]]
    paused = sum(r["paused"] for r in won)
    stopped = sum(r["drawn_before"]["stopped"] for r in won)
    lines = [
        f"Over the {len(won)} runs that reached the target, the winner waited paused "
        f"{paused:.1f} s in all, and the scheduler stopped {stopped} trial"
        f"{'s' * (stopped != 1)} of an able configuration before it"
        + (
            ": the scheduler neither held nor ended what could reach the target, and the "
            "time before the winner started is the searcher's, drawing configurations until "
            "it drew that one on a trial given that training seed."
            if paused == 0 and stopped == 0
            else "."
        )
    ]
    for row in rows:
        if math.isnan(row["target_seconds"]):
            continue
        by = row["target_seconds"] - row["trained"]
        lines.append(
            f"At k={row['workers']} the target allows {row['target_seconds']:.1f} s (median); "
            f"with its epochs taking {row['trained']:.1f} s the winner must start by "
            f"{by:.1f} s, and it started at {row['start']:.1f} s, after {row['winner']:g} "
            f"trials (the default's at k=1 after {one['winner']:g}); the first trial to draw "
            f"its configuration was trial {_shown(row)['first_able']} (at k=1 "
            f"{_shown(one)['first_able']})."
        )
    return [" ".join(lines), ""]


COLUMNS = {
    "workers": "k",
    "reached": "seeds reached",
    "seconds": "sim. s to the target (median of all seeds, as the speed-up's)",
    "speedup": "speed-up vs k=1",
    "target_seconds": "sim. s the speed-up target allows",
    "start": "winner started at (s)",
    "trained": "its epochs to the target (s)",
    "paused": "it waited paused (s)",
    "winner": "trials started before it",
    "other_seed": "able configurations drawn before it: another training seed",
    "stopped": "...: stopped",
    "training": "...: still training",
    "first_able": "first trial to draw an able configuration (median of all seeds)",
    "ceiling": "speed-up no search could beat",
}


def render(data: dict[str, Any]) -> str:
    """The table's Markdown."""
    meta, bench, runs, t1 = data["meta"], data["bench"], data["runs"], data["t1"]
    able = [Able(**{**a, "key": tuple(a["key"])}) for a in data["able"]]
    ceiling = able[0].seconds
    rows = {
        m: anatomy_rows([r for r in runs if r["method"] == m], t1, ceiling) for m in data["methods"]
    }
    one = next(r for r in rows[DEFAULT] if r["workers"] == 1)
    params = data["params"]
    shown = [
        f"{dict(zip(params, a.key, strict=True))}, its curve {a.seed} (epoch {a.epoch}, "
        f"{a.seconds:.1f} s)"
        for a in able[:5]
    ]
    lines = header(f"Where the time to the {bench} target goes (simulated)", meta)
    lines += [
        f"The target: the default's median regret after 200 trials at k=1 on {bench}, "
        f"{data['target_regret']:.4g} (the value {data['target']:.6g}); its median time to it at "
        f"k=1, T1 = {t1:.0f} simulated s. {len(able)} of the table's {data['curves']} curves "
        "(a configuration with one of its training seeds) "
        + ("reaches it: " if len(able) == 1 else "reach it, the fastest first: ")
        + "; ".join(shown)
        + (f"; and {len(able) - 5} more" if len(able) > 5 else "")
        + f". So no search at any k gets there in less than {ceiling:.1f} s, a speed-up of "
        f"{t1 / ceiling:.1f}x: it would have to draw that configuration first, on a trial "
        "given that training seed, and never pause or stop it.",
        "",
        "Each reach run in scaling.json against the default's k=1 target and time, run "
        "again (each ended as its record did), split at the trial that reached the target: "
        "when it started, its own epochs to the target and the time it waited paused add up "
        "to the run's time. *Able configurations drawn before it*: trials started before it "
        "whose configuration has a curve that reaches the target, by why they did not "
        "(another training seed's curve, which never gets there; stopped by the scheduler "
        "first; still training). The time to the target and the first draw of an able "
        "configuration are medians of all seeds; the other medians are over the seeds that "
        "reached the target.",
        "",
    ]
    for method in data["methods"]:
        lines += [
            f"## {METHODS[method].label} (`{method}`)",
            "",
            markdown_table([_shown(r) for r in rows[method]], COLUMNS),
            "",
            *_reading([r for r in runs if r["method"] == method], rows[method], one),
        ]
    lines += [
        f"![where the time to the target goes, seed by seed]({NAME}.png)",
        "",
        "## Seed by seed",
        "",
        markdown_table(
            [
                {
                    "method": r["method"],
                    "workers": r["workers"],
                    "seed": r["seed"],
                    "end": _s(r["end"] if r["reached"] else math.inf),
                    "start": _s(r.get("start", math.nan)),
                    "trained": _s(r.get("trained", math.nan)),
                    "paused": _s(r.get("paused", math.nan)),
                    "winner": r.get("winner"),
                    **(r.get("drawn_before") or {}),
                    "first_able": "never" if r["first_able"] is None else r["first_able"],
                }
                for r in runs
            ],
            {
                "method": "method",
                "workers": "k",
                "seed": "seed",
                "end": "sim. s to the target",
                "start": "winner started at (s)",
                "trained": "its epochs (s)",
                "paused": "paused (s)",
                "winner": "trials before it",
                "other_seed": "another seed",
                "stopped": "stopped",
                "training": "still training",
                "first_able": "first able draw (trial)",
            },
        ),
    ]
    return "\n".join(lines) + "\n"


def figure(data: dict[str, Any]) -> Any:
    """Seed by seed, per method and k, the run's time to the target split as the table
    splits it, beside the fastest possible time and the time the speed-up target allows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    runs, t1, bench, methods = data["runs"], data["t1"], data["bench"], data["methods"]
    ceiling = data["able"][0]["seconds"]
    ks = sorted({r["workers"] for r in runs})
    fig, axes = plt.subplots(
        len(methods), len(ks), figsize=(3.6 * len(ks), 3.4 * len(methods)), squeeze=False
    )
    for row, method in zip(axes, methods, strict=True):
        for ax, k in zip(row, ks, strict=True):
            at = sorted(
                (r for r in runs if r["workers"] == k and r["method"] == method),
                key=lambda r: r["seed"],
            )
            if not at:
                ax.axis("off")
                continue
            _bars(ax, at)
            ax.axvline(ceiling, color="k", ls=":", lw=1, label="fastest possible")
            if k in SPEEDUP_TARGETS:
                ax.axvline(
                    t1 / SPEEDUP_TARGETS[k],
                    color="tab:red",
                    ls="--",
                    lw=1,
                    label="the median's speed-up target",
                )
            ax.set_yticks(range(len(at)), [str(r["seed"]) for r in at])
            ax.set_title(f"{method}, k = {k}", fontsize=10)
            ax.set_xlabel("simulated s")
            ax.set_ylabel("seed")
    legend: dict[str, Any] = {}  # each label once, from whichever panel drew it
    for ax in axes.flat:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            legend.setdefault(label, handle)
    fig.legend(
        legend.values(), legend.keys(), loc="lower center", ncol=6, fontsize=8, frameon=False
    )
    fig.suptitle(f"Time to the {bench} target, seed by seed")
    fig.tight_layout(rect=(0, 0.06 / len(methods) + 0.02, 1, 1))
    return fig


def _bars(ax: Any, at: list[dict[str, Any]]) -> None:
    """One bar per seed: before the winner started, its pauses, its epochs (or the run's
    length, hatched, where the target was not reached)."""
    unreached: str | None = "not reached (to the run's limit)"
    for y, r in enumerate(at):
        if not r["reached"]:
            ax.barh(y, r["end"], color="0.9", hatch="//", edgecolor="0.6", label=unreached)
            unreached = None
            continue
        first = y == 0
        ax.barh(y, r["start"], color="0.75", label="before the winner started" if first else None)
        ax.barh(
            y,
            r["paused"],
            left=r["start"],
            color="tab:orange",
            label="it waited paused" if first else None,
        )
        ax.barh(
            y,
            r["trained"],
            left=r["start"] + r["paused"],
            color="tab:blue",
            label="its epochs to the target" if first else None,
        )


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog=PROG, description=__doc__)
    p.add_argument("--bench", choices=list(TABLES), default="han")
    p.add_argument(
        "--methods",
        nargs="+",
        choices=sorted(METHODS),
        default=[],
        metavar="METHOD",
        help="candidates whose reach runs against the default's k=1 target to split too "
        "(the default's always)",
    )
    p.add_argument("--out", type=Path, default=OUT)
    p.add_argument("--render", action="store_true", help="re-render from the JSON")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = _parse(argv)
    if args.render:
        path = args.out / f"{NAME}.json"
        if not path.is_file():
            refuse(PROG, f"--render: no {path} to render")
        data = json.loads(path.read_text())
        data["meta"] = recorded_meta(data["meta"], NAME)
    else:
        path = args.out / "scaling.json"
        scaling = json.loads(path.read_text()) if path.is_file() else {}
        methods = [DEFAULT, *(m for m in args.methods if m != DEFAULT)]
        found = {m: reach_runs(scaling, args.bench, m) for m in methods}
        ones = [r for r in found[DEFAULT] if r["workers"] == 1]
        if not ones:
            refuse(
                PROG,
                f"no reach runs of the default on {args.bench} at k=1 in {path}: run "
                "python -m bench scaling first",
            )
        missing = [m for m in methods if not found[m]]
        if missing:
            refuse(
                PROG,
                f"no reach runs of {', '.join(missing)} on {args.bench} against the default's "
                f"k=1 target in {path}: run python -m bench.scaling --methods "
                f"{' '.join(missing)} --parts reach --merge first",
            )
        records = [r for m in methods for r in found[m]]
        from bench.scaling.benchmarks import load

        _, source = load(args.bench)
        target = ones[0]["target"]
        able = fastest(source, target, ones[0]["start_s"])
        data = {
            "meta": base_meta(False, seeds=sorted({r["seed"] for r in records})),
            "bench": args.bench,
            "methods": methods,
            "params": list(source.params),
            "target": target,
            "target_regret": target - source.optimum,
            "t1": statistics.median(r["end"] if r["reached"] else math.inf for r in ones),
            "curves": len(source.configurations) * int(source.frame["seed"].nunique()),
            "able": [{**asdict(a), "key": list(a.key)} for a in able],
            "runs": _again(records),
        }
    text = render(data)
    print(text)
    write_outputs(NAME, text, data, args.out, figures=[(NAME, figure(data))])


if __name__ == "__main__":
    main()
