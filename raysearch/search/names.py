"""How an error names a search's options: by the command line's flags (``--warm-start RUN``)
when the command line made them, by ``run_search``'s keyword arguments (``warm_start='RUN'``)
when Python did (``RunOptions.names`` says which). The checks of a search are shared by both
front doors; each says an option the way its user wrote it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

__all__ = ["API", "CLI", "CURVES_API", "SIMULATE_API", "Names"]

# the fields whose flag is not the field's name with dashes: RunOptions' time budget, and
# the comparison report's directory (compare_runs' and write_report's out_dir)
_FLAGS = {"time_budget_s": "--time-budget", "out_dir": "--out"}
# RunOptions' fields no flag sets, only run_search's keywords: named as Python writes them
# from the command line too, which meets them only in a run it resumes
_NO_FLAG = frozenset({"health_check_s", "reuse_actors"})
_NO_VALUE = object()


@dataclass(frozen=True)
class Names:
    """``cli`` True: options are named by their flags (``given_as``: the fields given
    otherwise, each with its name there: a positional argument's metavar, a config key);
    False: by the keywords of ``call`` (``run_search``, ``record_curves``)."""

    cli: bool
    call: str = "run_search"
    given_as: tuple[tuple[str, str], ...] = ()

    @property
    def context(self) -> str:
        """The heading of a ConfigError whose problems name options (``invalid arguments``,
        ``invalid run_search arguments``: run_search's own checks say the latter)."""
        return "arguments" if self.cli else f"{self.call} arguments"

    def option(self, field: str, value: object = _NO_VALUE) -> str:
        """The option ``field`` (a RunOptions field), with ``value`` if given, as its user
        writes it: ``--warm-start``, ``--warm-start RUN``; ``warm_start=``,
        ``warm_start='RUN'`` (a path or str quoted as Python writes it)."""
        if self.cli and field not in _NO_FLAG:
            if named := dict(self.given_as).get(field):  # NAME; the value alone
                return named if value is _NO_VALUE else str(value)
            flag = _FLAGS.get(field, "--" + field.replace("_", "-"))
            return flag if value is _NO_VALUE else f"{flag} {value}"
        if value is _NO_VALUE:
            return f"{field}="
        shown = os.fspath(value) if isinstance(value, os.PathLike) else value
        return f"{field}={shown!r}"

    def head(self, field: str) -> str:
        """The option ``field`` alone at the head of a problem (``--space: ...``; ``space:
        ...``, as run_search's own checks write it)."""
        return self.option(field) if self.cli and field not in _NO_FLAG else field

    def example(self, field: str, metavar: str) -> str:
        """The option ``field`` given a value described by ``metavar``: ``--data DATASET_DIR``,
        ``data=DATASET_DIR``."""
        return self.option(field, metavar) if self.cli else f"{field}={metavar}"

    def search(self) -> str:
        """What runs a search, as its user starts one: the command line (as ``resume`` says
        it), or ``raysearch.run_search``."""
        return "raysearch run" if self.cli else "raysearch.run_search"

    def wandb_off(self) -> str:
        """What turns a search's W&B logging off, as its user writes it: the command line's
        ``--no-wandb``, run_search's ``wandb=False``."""
        return "--no-wandb" if self.cli else "wandb=False"

    def resume(self, run_dir: object) -> str:
        """What continues the search in ``run_dir``, as its user started it: the command
        line, or the ``run_search`` call."""
        if self.cli:
            return f"raysearch run --resume {run_dir}"
        return f"raysearch.run_search(resume={os.fspath(str(run_dir))!r})"


CLI = Names(cli=True)
API = Names(cli=False)
CURVES_API = Names(cli=False, call="record_curves")
SIMULATE_API = Names(cli=False, call="simulate_search")
