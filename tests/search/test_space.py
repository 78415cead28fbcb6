"""Search space files: every shipped one validates; bad files list every problem."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import optuna
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from raysearch.core.data_config import DataConfig
from raysearch.core.errors import ConfigError
from raysearch.core.metrics import TIME_ATTR, VAL_METRIC
from raysearch.search.scheduler import build_scheduler
from raysearch.search.searcher import TRIAL_SEED, build_searcher
from raysearch.search.settings import SCHEDULERS, SearchSettings
from raysearch.search.space import SPACES_DIR, available_spaces, load_space

SHIPPED = ["full", "loss_ablation", "model_size", "smoke", "war_losses"]


def test_every_shipped_space_is_found_and_validates() -> None:
    found = sorted(SPACES_DIR.rglob("*.yaml"))
    assert len(found) == len(SHIPPED), f"expected {SHIPPED}, found {found}"
    assert available_spaces() == sorted(SHIPPED)
    for path in found:
        space = load_space(path.stem)
        assert space.parameters, f"{path} searches nothing"
        assert space.settings.num_samples >= 1


def test_unknown_space_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        load_space("loss_ablaton")
    message = str(err.value)
    assert "loss_ablaton" in message
    for name in SHIPPED:
        assert name in message


def test_a_directory_is_named_as_one_not_as_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """--space DIR said 'unknown space' (or 'file not found' for a directory named x.yaml);
    a directory named like a shipped space does not hide the shipped space."""
    (tmp_path / "spaces").mkdir()
    (tmp_path / "grid.yaml").mkdir()
    (tmp_path / "smoke").mkdir()
    (tmp_path / "myspace").write_text("settings: {num_samples: 2, max_epochs: 3}\n")
    monkeypatch.chdir(tmp_path)
    for name, said in (
        (str(tmp_path / "spaces"), f"--space {tmp_path / 'spaces'}: is a directory; give"),
        ("grid.yaml", "--space grid.yaml: is a directory; give a space file (.yaml)"),
        # a file without the suffix said 'unknown space' (found by a walkthrough helper)
        ("myspace", "--space myspace: is a file whose name does not end in .yaml or .yml"),
    ):
        with pytest.raises(ConfigError) as err:
            load_space(name)
        assert err.value.problems[0].startswith(said), err.value.problems
    assert load_space("smoke").name == "smoke"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    return path


def test_bad_space_reports_every_problem_at_once(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
settings: {num_samples: 4, max_epochs: 3}
fixed: {dropout: 1.5, no_such_knob: 3}
parameters:
  loss_strategy: {type: categorical, choices: [uniform, nonsense]}
  budget_beta: {type: float, low: 0.9, high: 0.1, when: {loss_strategy: a3dro}}
  regret_clip: {type: float, low: 0.5, high: 5.0, when: {strategy: a3dro}}
  lr: {type: float, low: 0.0, high: 0.1, log: true}
start:
  - {loss_strategy: uniform, budget_beta: 0.3}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    problems = err.value.problems
    text = "\n".join(problems)
    assert "no_such_knob" in text
    assert "fixed.dropout" in text and "1.5" in text
    assert "nonsense" in text
    assert "low < high" in text and "0.9" in text
    assert "'strategy'" in text  # the condition names a parameter that does not exist
    assert "a3dro" in text  # condition value not among the choices
    assert "log scale needs low > 0" in text
    assert "start[0]" in text  # budget_beta set although its condition is false
    assert len(problems) >= 8


def test_structural_errors_name_the_field(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
settings: {num_samples: 0, max_epochs: 3, grace: 1}
parameters:
  dropout: {type: gaussian, low: 0.0, high: 0.5}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    text = str(err.value)
    assert str(path) in text
    assert "settings.num_samples" in text
    assert "settings.grace" in text
    assert "parameters.dropout.type" in text


def test_a_spec_of_the_wrong_form_hides_none_of_the_other_problems(tmp_path: Path) -> None:
    """A misspelt key in one parameter's spec (``lgo``) was the only problem said: the
    names and values of the rest were checked only once the whole file had its form, so an
    unknown fixed name and a bad preset came one fix later (found by a walkthrough helper).
    What names the failed parameter (a condition on it, a start point) waits for it."""
    path = _write(
        tmp_path,
        """
settings: {num_samples: 2, max_epochs: 3}
fixed: {size: huge, droput: 0.1}
parameters:
  lr: {type: float, low: 0.001, high: 0.01, lgo: true}
  dropout: {type: float, low: 0.0, high: 0.3, when: {lr: 0.005}}
  budget_beta: {type: float, low: 0.9, high: 0.1}
paramters: {}
start: [{lr: 0.002}]
""",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    wheres = sorted(p.split(":")[0] for p in err.value.problems)
    assert wheres == [
        "fixed.droput", "fixed.size", "parameters.budget_beta", "parameters.lr.lgo", "paramters"
    ], err.value.problems  # fmt: skip


def test_settings_and_parameter_problems_are_reported_together(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
settings: {num_samples: 4, max_epochs: 3, grace_period: 5}
parameters:
  dropout: {type: float, low: 0.1, high: 0.5, step: -0.1}
  raion_pca_components: {type: int, low: 1.5, high: 4}
  batch_size: {type: int, low: 8, high: 64, step: 1.5}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert sorted(err.value.problems) == [
        "parameters.batch_size.step: must be a whole number > 0, got 1.5",
        "parameters.dropout.step: must be a number > 0, got -0.1",
        "parameters.raion_pca_components: an int parameter needs whole-number bounds, got "
        "(low=1.5, high=4)",
        "settings: grace_period (5) must be at most max_epochs (3): ASHA's first rung would "
        "come after the last epoch and stop no trial (for a search without early stopping, "
        "set scheduler 'fifo' and no grace_period)",
    ]


def test_a_space_without_settings_says_what_it_lacks(tmp_path: Path) -> None:
    path = _write(tmp_path, "parameters: {dropout: {type: float, low: 0.0, high: 2.0}}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert sorted(err.value.problems) == [
        "parameters.dropout: dropout: must be in [0, 1), got 2.0",
        "settings.max_epochs: Field required",
        "settings.num_samples: Field required",
    ]


def test_a_space_without_parameters_trains_its_fixed_configuration_with_fresh_seeds(
    tmp_path: Path,
) -> None:
    """num_samples trials of one configuration, each with its own seed: how much the
    seed alone moves a configuration's value."""
    path = _write(tmp_path, "settings: {num_samples: 3, max_epochs: 2}\nfixed: {size: tiny}\n")
    space = load_space(str(path))
    searcher = build_searcher(space, seed=5)
    assert [searcher.suggest(f"t{i}") for i in range(3)] == [{TRIAL_SEED: 5 + i} for i in range(3)]
    assert space.fixed == {"size": "tiny"}


@given(
    grace=st.integers(1, 40),
    max_epochs=st.integers(1, 40),
    scheduler=st.sampled_from(SCHEDULERS),
)
def test_a_first_rung_beyond_the_last_epoch_is_refused_unless_nothing_stops(
    grace: int, max_epochs: int, scheduler: str
) -> None:
    """ASHA with grace_period > max_epochs has no rung: a search that looks early-stopped
    and is not. fifo stops nothing, so a grace period given with it is refused, whatever it
    is, and one given before fifo replaced the scheduler is set aside."""
    settings = {"num_samples": 4, "max_epochs": max_epochs, "grace_period": grace}
    if scheduler == "fifo":
        with pytest.raises(ValueError, match=rf"grace_period \({grace}\) sets ASHA's rungs"):
            SearchSettings(**settings, scheduler=scheduler)
        if grace <= max_epochs:
            fifo = SearchSettings(**settings, scheduler="asha").replaced(scheduler="fifo")
            assert (fifo.grace_period, "grace_period" in fifo.given()) == (1, False)
    elif grace > max_epochs:
        with pytest.raises(ValueError, match=rf"grace_period \({grace}\) must be at most"):
            SearchSettings(**settings, scheduler=scheduler)
    else:
        assert SearchSettings(**settings, scheduler=scheduler).grace_period == grace


@given(
    grace=st.integers(1, 4),
    factor=st.floats(1.05, 4.0),
    max_epochs=st.integers(1, 60),
)
def test_every_rung_asha_builds_is_reached_by_some_epoch_or_the_settings_are_refused(
    grace: int, factor: float, max_epochs: int
) -> None:
    """At epoch e Ray's ASHA records a trial at the highest rung <= e not yet recorded; a
    rung below another in the same epoch (grace 1, factor 1.3: 1.3 and 1.69) never gets a
    value, and GatedASHA could never judge the rung below it."""
    settings = {"num_samples": 4, "max_epochs": max_epochs, "grace_period": min(grace, max_epochs)}
    try:
        built = SearchSettings(**settings, reduction_factor=factor)
    except ValueError as err:
        assert "so no trial is ever recorded at" in str(err)
        return
    asha = build_scheduler(load_space("smoke").replace_settings(**built.given()), seed=0)
    trial = SimpleNamespace(trial_id="t")
    asha.on_trial_add(None, trial)
    for epoch in range(1, max_epochs + 1):
        asha.on_trial_result(None, trial, {TIME_ATTR: epoch, VAL_METRIC: 1.0})
    rungs = asha._brackets[0]._rungs
    assert all("t" in recorded for milestone, recorded in rungs if milestone <= max_epochs)


def test_condition_false_never_samples_the_conditional_parameter() -> None:
    space = load_space("loss_ablation")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    seen = {"a3dro": 0, "other": 0}
    for _ in range(60):
        trial = study.ask()
        values = space.sample(trial)
        study.tell(trial, 0.0)
        if values["loss_strategy"] == "a3dro":
            seen["a3dro"] += 1
            assert {"budget_beta", "regret_clip"} <= set(values)
            assert 0.0 <= values["budget_beta"] <= 0.9
        else:
            seen["other"] += 1
            assert "budget_beta" not in values and "regret_clip" not in values
    assert seen["a3dro"] > 0 and seen["other"] > 0


def test_settings_overrides_are_validated() -> None:
    space = load_space("smoke")
    assert space.with_settings(num_samples=7, max_epochs=None).settings.num_samples == 7
    assert space.with_settings(num_samples=7).settings.max_epochs == space.settings.max_epochs
    with pytest.raises(ConfigError, match="num_samples"):
        space.with_settings(num_samples=0)
    windowed = space.with_settings(cutoff_window=27)
    # a flag not given (None) keeps the setting; replace_settings sets it back to null
    assert windowed.with_settings(cutoff_window=None).settings.cutoff_window == 27
    assert windowed.replace_settings(cutoff_window=None).settings.cutoff_window is None
    with pytest.raises(ConfigError, match="cutoff_window"):
        space.replace_settings(cutoff_window=2)


def test_brackets_need_asha_and_room_below_max_epochs() -> None:
    """Each Hyperband bracket must be able to stop a trial; both problems at once."""
    space = load_space("smoke").with_settings(max_epochs=27, grace_period=1, reduction_factor=3)
    assert space.with_settings(brackets=3).settings.brackets == 3  # first rungs 1, 3, 9 < 27
    with pytest.raises(ConfigError) as err:
        space.with_settings(brackets=4, scheduler="fifo")
    message = str(err.value)
    assert "brackets (4) needs an ASHA scheduler, not 'fifo'" in message
    assert "= 27, must be below max_epochs (27)" in message and "Value error" not in message
    with pytest.raises(ConfigError, match="brackets"):
        space.with_settings(brackets=0)
    assert space.with_settings(brackets=3).smoke().settings.brackets == 1  # --smoke: 3 epochs


def test_a_cutoff_window_needs_asha_and_three_values() -> None:
    space = load_space("smoke")
    assert space.settings.cutoff_window is None  # Ray's cut-off unless a space asks
    assert space.with_settings(cutoff_window=27).settings.cutoff_window == 27
    with pytest.raises(ConfigError) as err:
        space.with_settings(cutoff_window=27, scheduler="fifo")
    assert "cutoff_window (27) needs an ASHA scheduler, not 'fifo'" in str(err.value)
    with pytest.raises(ConfigError, match="cutoff_window"):
        space.with_settings(cutoff_window=2)


def test_the_gate_is_judged_against_the_next_rung_unless_a_space_asks_for_the_chain() -> None:
    space = load_space("smoke")
    assert space.settings.gate_against == "next"
    assert space.with_settings(gate_against="chain").settings.gate_against == "chain"
    with pytest.raises(ConfigError) as err:
        space.with_settings(gate_against="chain", scheduler="asha")
    assert "gate_against ('chain') sets what gated_asha's gate judges" in str(err.value)
    assert "scheduler 'asha' has no gate" in str(err.value)
    assert space.with_settings(scheduler="fifo").settings.gate_against == "next"
    with pytest.raises(ConfigError, match="gate_against"):
        space.with_settings(gate_against="final")


def test_the_gate_weighs_what_a_cut_costs_wherever_it_runs_unless_a_space_says_not() -> None:
    space = load_space("smoke")
    assert space.settings.scheduler == "gated_asha"
    assert space.settings.gate_cut_cost is True
    assert space.with_settings(gate_cut_cost=False).settings.gate_cut_cost is False
    # left unset, it follows the scheduler: no gate, no cut weighed, and no error
    ungated = space.with_settings(scheduler="asha")
    assert ungated.settings.gate_cut_cost is False
    assert ungated.with_settings(scheduler="gated_asha").settings.gate_cut_cost is True
    with pytest.raises(ConfigError) as err:  # reported with the other gate setting at once
        space.with_settings(gate_cut_cost=True, gate_against="chain", scheduler="fifo")
    assert "gate_cut_cost (true) asks gated_asha's gate" in str(err.value)
    assert "scheduler 'fifo' has no gate" in str(err.value)
    assert "gate_against ('chain')" in str(err.value)
    with pytest.raises(ConfigError, match="gate_cut_cost"):
        space.with_settings(gate_cut_cost="sometimes")


def test_a_stop_at_an_unmeasured_rung_is_deferred_wherever_the_gate_runs() -> None:
    space = load_space("smoke")
    assert space.settings.scheduler == "gated_asha"
    assert space.settings.gate_unmeasured == "defer"
    assert space.with_settings(gate_unmeasured="asha").settings.gate_unmeasured == "asha"
    # left unset, it follows the scheduler: no gate, nothing deferred, and no error
    ungated = space.with_settings(scheduler="asha")
    assert ungated.settings.gate_unmeasured == "asha"
    assert ungated.with_settings(scheduler="gated_asha").settings.gate_unmeasured == "defer"
    with pytest.raises(ConfigError) as err:  # both reported at once
        space.with_settings(gate_unmeasured="defer", gate_against="chain", scheduler="fifo")
    assert "gate_unmeasured ('defer') sets what gated_asha's gate does" in str(err.value)
    assert "gate_against ('chain')" in str(err.value)
    with pytest.raises(ConfigError, match="gate_unmeasured"):
        space.with_settings(gate_unmeasured="continue")


def test_a_renamed_space_loads_under_its_old_name_with_a_warning(caplog) -> None:
    with caplog.at_level("WARNING"):
        space = load_space("real_losses")
    assert space.name == "war_losses"
    assert "now called 'war_losses'" in caplog.text


def test_multivariate_false_gives_independent_tpe_and_needs_tpe() -> None:
    """``multivariate: false``: TPE draws each parameter from its own model (it infers no
    joint search space); the default models them jointly. A random searcher has no model."""
    from raysearch.search.searcher import build_sampler

    space = load_space("loss_ablation")
    assert space.settings.multivariate  # jointly unless a space asks
    study = optuna.create_study()
    for _ in range(3):  # finished trials: the joint search space is what they share
        trial = study.ask()
        space.sample(trial)
        study.tell(trial, 1.0)
    frozen = study.trials[-1]
    joint = build_sampler(space, 0).infer_relative_search_space(study, frozen)
    alone = build_sampler(space.with_settings(multivariate=False), 0)
    assert joint and alone.infer_relative_search_space(study, frozen) == {}
    with pytest.raises(ConfigError) as err:
        space.with_settings(multivariate=False, searcher="random")
    assert "multivariate (false)" in str(err.value) and "'random' has no model" in str(err.value)


_SETTINGS = "settings: {num_samples: 4, max_epochs: 3}\n"
_A3DRO = """parameters:
  loss_strategy: {type: categorical, choices: [uniform, a3dro]}
  budget_beta: {type: float, low: 0.0, high: 0.9, when: {loss_strategy: a3dro}}
"""


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ("{num_samples: true, max_epochs: 3}", "settings.num_samples"),  # would run 1 trial
        ("{num_samples: '4', max_epochs: 3}", "settings.num_samples"),
        ("{num_samples: 4, max_epochs: true}", "settings.max_epochs"),
        ("{num_samples: 4, max_epochs: 3, multivariate: 'no'}", "settings.multivariate"),
        ("{num_samples: 4, max_epochs: 3, reduction_factor: '2'}", "settings.reduction_factor"),
        ("{num_samples: 4, max_epochs: 3, reduction_factor: .inf}", "settings.reduction_factor"),
    ],
)
def test_a_setting_of_the_wrong_type_is_refused_not_coerced(
    tmp_path: Path, settings: str, named: str
) -> None:
    """YAML's ``true``, ``'4'`` or ``'no'`` is not a count or a switch (pydantic alone would
    read ``true`` as 1 trial and ``'no'`` as false); an int still stands for a float."""
    path = _write(tmp_path, f"settings: {settings}\n" + _A3DRO)
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert [p.split(":")[0] for p in err.value.problems] == [named]
    whole = _write(tmp_path, "settings: {num_samples: 4, max_epochs: 3, reduction_factor: 2}\n")
    assert load_space(str(whole)).settings.reduction_factor == 2.0


@pytest.mark.parametrize(
    ("field", "named"),
    [
        ("{type: float, low: '0.1', high: 0.5}", "parameters.dropout.low"),
        ("{type: float, low: false, high: 0.5}", "parameters.dropout.low"),
        ("{type: float, low: 0.1, high: 0.5, log: 'yes'}", "parameters.dropout.log"),
        ("{type: float, low: 0.1, high: .nan}", "parameters.dropout.high"),
    ],
)
def test_a_parameter_field_of_the_wrong_type_is_refused(
    tmp_path: Path, field: str, named: str
) -> None:
    path = _write(tmp_path, _SETTINGS + f"parameters:\n  dropout: {field}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert any(p.startswith(named) for p in err.value.problems), err.value.problems


@pytest.mark.parametrize("value", ["'0.3'", "null", "true"])
def test_a_start_value_that_is_not_a_number_is_one_error_not_a_traceback(
    tmp_path: Path, value: str
) -> None:
    path = _write(
        tmp_path,
        _SETTINGS + _A3DRO + f"start:\n  - {{loss_strategy: a3dro, budget_beta: {value}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    given = yaml.safe_load(value)
    assert err.value.problems == [
        f"start[0]: budget_beta={given!r} is not a number (float parameter)"
    ]


def test_a_start_point_of_a_parameter_without_bounds_says_the_parameter_is_wrong(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        _SETTINGS
        + "parameters:\n  dropout: {type: float, high: 0.5}\nstart:\n  - {dropout: 0.2}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert err.value.problems == ["parameters.dropout: a float parameter needs 'low' and 'high'"]


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    """Plain YAML keeps the second ``budget_beta`` and drops the first without a word."""
    text = _SETTINGS + _A3DRO + "  budget_beta: {type: float, low: 0.1, high: 0.2}\n"
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert err.value.problems == [f"{path}, line 5: the key 'budget_beta' is given twice"]


def test_keys_given_twice_are_reported_with_the_files_other_problems(tmp_path: Path) -> None:
    """Every key given twice, and the problems of the file as plain YAML reads it (the last
    value of each key), in one error."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3, max_epochs: 2}\n"
        "parameters:\n"
        "  dropout: {type: float, low: 0.0, high: 0.5, step: 0}\n"
        "  dropout: {type: float, low: 0.0, high: 0.9, step: 0}\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert err.value.problems == [
        f"{path}, line 1: the key 'max_epochs' is given twice",
        f"{path}, line 4: the key 'dropout' is given twice",
        "parameters.dropout.step: must be a number > 0, got 0",
    ]


@pytest.mark.parametrize(
    ("section", "name", "why"),
    [
        ("fixed: {max_epochs: 50}", "fixed.max_epochs", "set settings.max_epochs"),
        ("fixed: {seed: 3}", "fixed.seed", "set per trial by the search"),
        ("parameters: {max_epochs: {type: int, low: 2, high: 9}}", "parameters.max_epochs",
         "set settings.max_epochs"),
    ],
)  # fmt: skip
def test_a_value_the_search_sets_in_every_trial_cannot_be_fixed_or_searched(
    tmp_path: Path, section: str, name: str, why: str
) -> None:
    """Every trial's max_epochs is the settings' and its seed the search's: a space's own
    value for either would be dropped without a word."""
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + section + "\n")))
    assert len(err.value.problems) == 1
    assert err.value.problems[0].startswith(f"{name}: ") and why in err.value.problems[0]


def test_an_unknown_parameter_is_offered_only_the_names_a_space_may_set(tmp_path: Path) -> None:
    """Its valid names listed max_epochs and seed, which a space is then refused (the
    search sets them in every trial)."""
    path = _write(tmp_path, _SETTINGS + "parameters: {bogus: {type: int, low: 1, high: 3}}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith("parameters.bogus: unknown parameter 'bogus'; valid names: ")
    offered = problem.split("valid names: ")[1].split(", ")
    assert "dropout" in offered and "learning_rate" in offered
    assert not {"max_epochs", "seed"} & set(offered)


_DATA_FIELDS = [f.name for f in dataclasses.fields(DataConfig) if f.name not in {"path", "synth"}]


@pytest.mark.parametrize("field", _DATA_FIELDS)
def test_a_data_field_that_sets_the_validation_scale_may_be_fixed_but_not_searched(
    tmp_path: Path, field: str
) -> None:
    """Two trials that drew different val_fraction values (or windows, horizons, schemes,
    the correlation filter a forecast task's targets go through) were validated on other
    samples, targets or naive references, and ASHA and TPE ranked their anchored losses as
    one. Only the raion PCA leaves all three alone. Found by a review helper."""
    default = getattr(DataConfig(), field)
    other = "blocked" if isinstance(default, str) else default / 2 if default < 1 else default + 1
    choices = {"type": "categorical", "choices": [default, other]}
    text = _SETTINGS + yaml.safe_dump({"parameters": {field: choices}})
    if field == "raion_pca_components":
        assert load_space(str(_write(tmp_path, text))).parameters[field].choices == [8, 9]
        return
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, text)))
    (problem,) = err.value.problems
    assert problem.startswith(f"parameters.{field}: decides the samples a trial is validated on")
    assert "set it under fixed:" in problem


def test_a_fixed_value_is_checked_beside_the_other_fixed_values(tmp_path: Path) -> None:
    """val_scheme: blocked needs val_origins >= 2, and docs/selection.md fixes both; each was
    checked against the defaults alone, so the pair was refused ("needs >= 2 folds, got 1").
    A searched choice is checked beside them too. Found by a review helper."""
    fixed = "fixed: {val_origins: 2, val_scheme: blocked, nhead: 4}\n"
    space = load_space(str(_write(tmp_path, _SETTINGS + fixed + _A3DRO)))
    assert space.fixed["val_scheme"] == "blocked"
    choices = "parameters: {d_model: {type: categorical, choices: [32, 34]}}\n"
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + fixed + choices)))
    (problem,) = err.value.problems
    assert problem.startswith("parameters.d_model.choices: ") and "34" in problem, problem


@pytest.mark.parametrize(
    ("fixed", "searched"),
    [
        ("{warmup_epochs: 25}", "lr: {type: float, low: 0.0001, high: 0.001}"),
        ("{loss_strategy: a3dro, a3dro_warmup_epochs: 25}",
         "dropout: {type: float, low: 0, high: 0.3}"),
        ("{a3dro_warmup_epochs: 25}",
         "loss_strategy: {type: categorical, choices: [uniform, a3dro]}"),
    ],
)  # fmt: skip
def test_a_warm_up_is_checked_against_the_searchs_max_epochs_not_the_default(
    tmp_path: Path, fixed: str, searched: str
) -> None:
    """Every trial trains settings.max_epochs epochs; a fixed warm-up was checked against
    the trainer's default 20, so 25 of 50 was refused and 15 of 10 let through to fail in
    every trial. Found by a review helper."""
    text = f"fixed: {fixed}\nparameters:\n  {searched}\n"
    assert load_space(str(_write(tmp_path, "settings: {num_samples: 4, max_epochs: 50}\n" + text)))
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, "settings: {num_samples: 4, max_epochs: 24}\n" + text)))
    (problem,) = err.value.problems  # one problem of two fixed values is said once
    assert "(24), got 25" in problem, problem
    # the search's max_epochs when it overrides the file's (--max-epochs, max_epochs=): a
    # file of 24 epochs searched for 50 was refused (found by a review helper)
    assert load_space(str(tmp_path / "bad.yaml"), max_epochs=50)
    with pytest.raises(ConfigError, match=r"\(20\), got 25"):
        load_space(str(_write(tmp_path, "settings: {num_samples: 4, max_epochs: 50}\n" + text)),
                   max_epochs=20)  # fmt: skip


def test_a_bad_fixed_value_does_not_hide_a_bad_searched_choice(tmp_path: Path) -> None:
    """ModelConfig checks d_model % nhead only when its other fields are valid: a choice
    checked beside a bad fixed dropout was said to have no problem of its own. Found by a
    review helper."""
    text = "fixed: {dropout: 1.5}\nparameters: {nhead: {type: categorical, choices: [3, 4]}}\n"
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + text)))
    where = [p.split(": ")[0] for p in err.value.problems]
    assert where == ["fixed.dropout", "parameters.nhead.choices"], err.value.problems


@pytest.mark.parametrize("typo", ["max_epoch", "maxepochs", "epochs"])
def test_a_name_close_to_one_the_search_sets_is_told_what_that_one_is(
    tmp_path: Path, typo: str
) -> None:
    """With max_epochs no longer offered, 'max_epoch' was steered to min_epochs or
    warmup_epochs alone, fields that do something else, which the space then takes. Found by
    a review helper."""
    path = _write(tmp_path, _SETTINGS + f"fixed: {{{typo}: 4}}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    said = problem.split("; valid names")[0]
    assert said.endswith(
        "'max_epochs' is the search's budget, the same for every trial: set settings.max_epochs)"
    ), said


def test_a_space_that_could_only_ever_draw_one_value_or_repeats_a_choice_is_refused(
    tmp_path: Path,
) -> None:
    path = _write(
        tmp_path,
        _SETTINGS
        + """parameters:
  loss_strategy: {type: categorical, choices: [uniform, a3dro, uniform]}
  dropout: {type: float, low: 0.1, high: 0.5, step: 1.0}
  raion_pca_components: {type: int, low: 2, high: 4, step: 5}
  d_model: {type: int, low: 16, high: 64, step: 48}
""",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert sorted(err.value.problems) == [
        "parameters.dropout.step: 1 is more than high - low (0.4): the parameter would only "
        "ever be 0.1",
        "parameters.loss_strategy.choices: lists 'uniform' more than once",
        "parameters.raion_pca_components.step: 5 is more than high - low (2): the parameter "
        "would only ever be 2",
    ]  # a step of exactly high - low draws both bounds (d_model: 16 or 64)


def test_more_start_points_than_trials_is_refused(tmp_path: Path) -> None:
    starts = "start:\n" + "  - {loss_strategy: uniform}\n" * 5
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + _A3DRO + starts)))
    assert err.value.problems == [
        "start: 5 points, but settings.num_samples is 4: the last 1 would never run"
    ]


def test_a_setting_of_the_wrong_kind_does_not_hide_a_problem_between_two_good_ones(
    tmp_path: Path,
) -> None:
    """pydantic checks settings against each other only once every field is good: a
    misspelt searcher hid a grace period beyond the last epoch until it was fixed."""
    path = _write(
        tmp_path,
        "settings: {num_samples: 4, max_epochs: 3, grace_period: 5, searcher: tpee}\n"
        "parameters:\n  dropout: {type: float, low: 0.0, high: 0.5}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert [p.split(" ", 2)[:2] for p in err.value.problems] == [
        ["settings.searcher:", "Input"],
        ["settings:", "grace_period"],
    ]
    # a problem that names the failed setting is not guessed at with its default
    path = _write(tmp_path, "settings: {num_samples: x, max_epochs: 3, finalists: 9}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert [p.split(":")[0] for p in err.value.problems] == ["settings.num_samples"]
    # nor does a failed num_samples, which has no default, hide the grace period
    for count in ("true", "'4'", "0"):
        path = _write(
            tmp_path, f"settings: {{num_samples: {count}, max_epochs: 3, grace_period: 5}}\n"
        )
        with pytest.raises(ConfigError) as err:
            load_space(str(path))
        assert [p.split(" ", 2)[:2] for p in err.value.problems] == [
            ["settings.num_samples:", "Input"],
            ["settings:", "grace_period"],
        ], count


def test_a_misspelt_parameter_or_a_shipped_space_given_as_a_file_gets_a_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _write(tmp_path, _SETTINGS + "fixed: {dropuot: 0.2}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith(
        "fixed.dropuot: unknown parameter 'dropuot' (did you mean 'dropout'?)"
    )
    monkeypatch.chdir(tmp_path)  # no smoke.yml here: the shipped space is meant
    with pytest.raises(ConfigError) as err:
        load_space("smoke.yml")
    assert err.value.problems == [
        "--space smoke.yml: file not found (the shipped space is --space smoke)"
    ]


def test_a_key_that_is_not_a_string_is_one_problem_naming_its_section(tmp_path: Path) -> None:
    """YAML reads ``1: x`` with the number 1 as the key; each such key, at the top level or
    in a section, is said with the file's other problems, not a TypeError."""
    text = (
        "settings: {num_samples: 4, max_epochs: 3, 1: 2}\n"
        "fixed: {2: 3}\n"
        "parameters:\n"
        "  dropout: {type: float, low: 0.0, high: 0.5, when: {3: x}}\n"
        "start: [{4: 0.1}]\n"
        "5: x\n"
    )
    path = _write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert str(path) in str(err.value)
    assert sorted(err.value.problems) == sorted(
        [
            "settings: key 1 is not a name (keys are strings)",
            "fixed: key 2 is not a name (keys are strings)",
            "parameters.dropout.when: key 3 is not a name (keys are strings)",
            "start.0: key 4 is not a name (keys are strings)",
            "key 5 is not a name (keys are strings)",
        ]
    )


def test_a_file_that_is_not_utf8_is_one_problem_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("description: caf\u00e9\n".encode("latin-1"))
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith(f"{path}: cannot be read as YAML (")
    assert "utf-8" in problem


@pytest.mark.parametrize(
    ("fixed", "quoted"),
    [
        ("data.synth.seed: -1", "got -1"),
        ("data.synth.raions: true", "got True"),
        ("data.synth.start: 2022-02-24", "got datetime.date(2022, 2, 24)"),  # YAML's date
        ("data.synth.start: 20220224", "got 20220224"),
    ],
)
def test_a_synthetic_data_value_the_generator_cannot_take_is_refused_by_the_loader(
    tmp_path: Path, fixed: str, quoted: str
) -> None:
    path = _write(tmp_path, _SETTINGS + f"fixed:\n  {fixed}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith(f"fixed.{fixed.split(':')[0]}: ") and quoted in problem


@pytest.mark.parametrize(
    ("settings", "said"),
    [
        ({"scheduler": "fifo", "grace_period": 3}, "grace_period (3) sets ASHA's rungs"),
        ({"scheduler": "fifo", "grace_period": 1}, "grace_period (1) sets ASHA's rungs"),
        ({"scheduler": "fifo", "reduction_factor": 4}, "reduction_factor (4) sets ASHA's"),
        (
            {"searcher": "random", "n_startup_trials": 10},
            "n_startup_trials (10) sets how many trials TPE draws at random before its "
            "model, and searcher 'random' has no model",
        ),
    ],
)
def test_a_setting_given_with_a_scheduler_or_searcher_that_ignores_it_is_refused(
    tmp_path: Path, settings: dict[str, Any], said: str
) -> None:
    """fifo has no rungs and random search no model: a grace_period, reduction_factor or
    n_startup_trials given with them would be taken and do nothing. Left to its default,
    each is no problem."""
    choice = {k: v for k, v in settings.items() if k in ("scheduler", "searcher")}
    assert SearchSettings(num_samples=8, max_epochs=9, **choice)
    with pytest.raises(ValueError, match=re.escape(said)):
        SearchSettings(num_samples=8, max_epochs=9, **settings)
    flow = ", ".join(f"{k}: {v}" for k, v in settings.items())
    path = _write(tmp_path, f"settings: {{num_samples: 8, max_epochs: 9, {flow}}}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith(f"settings: {said}")


def test_a_scheduler_or_searcher_chosen_over_a_spaces_sets_its_settings_for_the_old_aside() -> None:
    """Every shipped space sets grace_period, reduction_factor and n_startup_trials: run's
    --scheduler fifo and --searcher random (the baseline) take them out of play, they do
    not refuse the space; switched back, the space's come back. --smoke on a fifo space
    gives it no grace period."""
    space = load_space("loss_ablation")
    baseline = space.with_settings(searcher="random", scheduler="fifo")
    given = baseline.settings.given()
    assert not {"grace_period", "reduction_factor", "n_startup_trials"} & set(given)
    assert (baseline.settings.grace_period, baseline.settings.n_startup_trials) == (1, 4)
    again = baseline.with_settings(searcher="tpe", scheduler="asha")
    assert (again.settings.grace_period, again.settings.reduction_factor) == (4, 2)
    assert again.settings.n_startup_trials == 5
    with pytest.raises(ConfigError, match=re.escape("grace_period (2) sets ASHA's rungs")):
        baseline.with_settings(grace_period=2)  # given under fifo: refused
    with pytest.raises(ConfigError, match=re.escape("n_startup_trials (3) sets")):
        space.with_settings(searcher="random", n_startup_trials=3)
    assert baseline.smoke().settings.scheduler == "fifo"
    assert "grace_period" not in baseline.smoke().settings.given()


@pytest.mark.parametrize("value", ["2.5", "3.0"])
def test_a_start_value_of_an_int_parameter_that_is_not_an_int_is_refused_naming_the_point(
    tmp_path: Path, value: str
) -> None:
    """The trial would otherwise be refused only as it starts, naming neither the file nor
    the point (raion_pca_components: must be an int >= 0, got 2.5)."""
    path = _write(
        tmp_path,
        _SETTINGS
        + "parameters:\n  raion_pca_components: {type: int, low: 1, high: 4}\n"
        + f"start:\n  - {{raion_pca_components: 2}}\n  - {{raion_pca_components: {value}}}\n",
    )
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert str(path) in str(err.value)
    assert err.value.problems == [
        f"start[1]: raion_pca_components={value} is not an int (raion_pca_components is an "
        "int parameter)"
    ]


def test_a_list_for_the_model_size_is_reported_with_its_value(tmp_path: Path) -> None:
    path = _write(tmp_path, _SETTINGS + "fixed:\n  model.size: [tiny]\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith("fixed.model.size: ") and "['tiny']" in problem


@pytest.mark.parametrize(
    ("when", "why", "fixed"),
    [
        ("{dropout: 0.9}", "dropout never takes 0.9 (it is drawn from [0, 0.5])", "{dropout: 0.4}"),
        ("{dropout: [0.2, 0.25]}", "dropout never takes 0.25 (it is drawn in steps of 0.1",
         "{dropout: [0.2, 0.3]}"),
        ("{dropout: 'high'}", "dropout never takes 'high' (it is a float parameter: it takes",
         "{dropout: 0.1}"),
        ("{lr: 0.001}", "lr never takes 0.001 (it is a float parameter without a step", None),
        ("{raion_pca_components: 2.5}", "raion_pca_components never takes 2.5 (it is an int",
         "{raion_pca_components: 3}"),
        ("{raion_pca_components: [2, 7]}", "raion_pca_components never takes 7 (it is drawn",
         "{raion_pca_components: [2, 4]}"),
        ("{batch_size: 12}", "batch_size never takes 12 (it is drawn in steps of 8 from 8)",
         "{batch_size: 16}"),
        ("{loss_strategy: nope}", "loss_strategy has no choice ['nope']",
         "{loss_strategy: a3dro}"),
    ],
)  # fmt: skip
def test_a_condition_on_a_value_its_parameter_never_takes_is_refused(
    tmp_path: Path, when: str, why: str, fixed: str | None
) -> None:
    """budget_beta would never be drawn: the search would run without it, silently."""
    parameters = (
        "parameters:\n"
        "  dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}\n"
        "  lr: {type: float, low: 0.0001, high: 0.01, log: true}\n"
        "  raion_pca_components: {type: int, low: 1, high: 4}\n"
        "  batch_size: {type: int, low: 8, high: 64, step: 8}\n"
        "  loss_strategy: {type: categorical, choices: [uniform, a3dro]}\n"
        "  budget_beta: {type: float, low: 0.0, high: 0.9, when: WHEN}\n"
    )
    path = _write(tmp_path, _SETTINGS + parameters.replace("WHEN", when))
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert str(path) in str(err.value)
    (problem,) = err.value.problems
    assert problem.startswith(f"parameters.budget_beta.when: {why}"), problem
    if fixed is not None:  # a value it draws
        load_space(str(_write(tmp_path, _SETTINGS + parameters.replace("WHEN", fixed))))


def test_a_condition_on_a_stepped_float_holds_for_the_value_drawn_on_that_step(
    tmp_path: Path,
) -> None:
    """Optuna draws 0.3 of steps of 0.1 as 0.30000000000000004: a condition compared exactly
    would never hold, and budget_beta would never be drawn."""
    path = _write(
        tmp_path,
        _SETTINGS
        + "parameters:\n"
        + "  dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}\n"
        + "  budget_beta: {type: float, low: 0.0, high: 0.9, when: {dropout: 0.3}}\n",
    )
    space = load_space(str(path))
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    drawn = 0
    for _ in range(60):
        trial = study.ask()
        values = space.sample(trial)
        study.tell(trial, 0.0)
        assert ("budget_beta" in values) == (abs(values["dropout"] - 0.3) < 1e-9), values
        drawn += "budget_beta" in values
    assert drawn > 0
    assert space.parameters["budget_beta"].allowed_by({"dropout": 0.1 + 0.2})  # 0.3000...04
    assert not space.parameters["budget_beta"].allowed_by({"dropout": 0.4})


@pytest.mark.parametrize(
    ("parameter", "bounds"),
    [
        ("dropout: {type: float, low: 0.2, high: 0.2}", "(low=0.2, high=0.2)"),
        ("raion_pca_components: {type: int, low: 3, high: 3}", "(low=3.0, high=3.0)"),
    ],
)
def test_a_range_whose_low_equals_its_high_is_refused(
    tmp_path: Path, parameter: str, bounds: str
) -> None:
    """A range of one value searches nothing: a parameter listed as searched would be fixed,
    said nowhere (as low > high is refused)."""
    path = _write(tmp_path, _SETTINGS + f"parameters:\n  {parameter}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    name = parameter.split(":")[0]
    assert err.value.problems == [f"parameters.{name}: low < high must hold, but got {bounds}"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        # Optuna cannot draw a stepped log range: it would fail in every trial, after Ray
        # started, instead of in the file's check
        ("parameters:\n  lr: {type: float, low: 0.0001, high: 0.01, log: true, step: 0.001}\n",
         "parameters.lr: 'log' and 'step' cannot be combined"),
        # a name both fixed and searched has two values for every trial: one of them would
        # be dropped without a word
        ("fixed: {dropout: 0.1}\nparameters:\n  dropout: {type: float, low: 0.0, high: 0.5}\n",
         "fixed.dropout: is also a searched parameter; keep one"),
    ],
)  # fmt: skip
def test_a_parameter_no_trial_could_take_as_written_is_refused(
    tmp_path: Path, text: str, problem: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + text)))
    assert err.value.problems == [problem]


def test_a_condition_on_a_parameter_listed_after_it_is_refused(tmp_path: Path) -> None:
    """Parameters are drawn in the order listed: a condition on one drawn later is read
    before it has a value, so it never holds and budget_beta would never be drawn."""
    a3dro_first, beta_second = _A3DRO.splitlines()[1:]
    text = f"parameters:\n{beta_second}\n{a3dro_first}\n"
    with pytest.raises(ConfigError) as err:
        load_space(str(_write(tmp_path, _SETTINGS + text)))
    assert err.value.problems == [
        "parameters.budget_beta.when: 'loss_strategy' must be listed before 'budget_beta'"
    ]


@pytest.mark.parametrize(
    ("parameter", "when"),
    [
        ("raion_pca_components: {type: int, low: 1, high: 4}", "{raion_pca_components: 1}"),
        ("dropout: {type: float, low: 0.0, high: 0.5, step: 0.1}", "{dropout: 0.0}"),
    ],
)
def test_a_condition_on_the_low_bound_of_a_range_is_accepted(
    tmp_path: Path, parameter: str, when: str
) -> None:
    """A range draws its low bound as it draws its high one: a condition on it holds in
    some trials, and refusing it would say the parameter 'never takes' a value it does."""
    text = (
        f"parameters:\n  {parameter}\n"
        f"  budget_beta: {{type: float, low: 0.0, high: 0.9, when: {when}}}\n"
    )
    space = load_space(str(_write(tmp_path, _SETTINGS + text)))
    assert space.parameters["budget_beta"].when == yaml.safe_load(when)


@pytest.mark.parametrize(
    ("start", "problem"),
    [
        ("{loss_strategy: a3dro, budget_beta: 1.5}", "budget_beta=1.5 is outside [0.0, 0.9]"),
        ("{loss_strategy: a3dro}", "'budget_beta' is missing from the start point; its "
         "condition {'loss_strategy': 'a3dro'} holds, so the point must set it"),
        ("{loss_strategy: uniform, budget_beta: 0.3}", "'budget_beta' is set but its condition "
         "{'loss_strategy': 'a3dro'} does not hold"),
    ],
)  # fmt: skip
def test_a_start_point_the_search_would_not_draw_is_refused_saying_why(
    tmp_path: Path, start: str, problem: str
) -> None:
    """A start point is a trial the search draws first: a value above the range, a
    parameter left out though its condition holds, or one set though its condition does
    not, is a trial the search could not draw: it would fail at its start or run otherwise
    than written."""
    path = _write(tmp_path, _SETTINGS + _A3DRO + f"start:\n  - {start}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    assert err.value.problems == [f"start[0]: {problem}"]


def test_replicates_in_a_space_without_finalists_are_refused_and_set_aside_when_turned_off(
    tmp_path: Path,
) -> None:
    """A space file's ``replicates: 5`` beside ``finalists: 0`` (or none) was read and did
    nothing: no finalist is re-trained. The file is refused, naming both. A space with
    finalists whose run turns them off (``--finalists 0``, ``--smoke``) sets its replicates
    aside, and a copy that turns them on again takes them up."""
    path = _write(tmp_path, "settings: {num_samples: 8, max_epochs: 9, replicates: 5}\n")
    with pytest.raises(ConfigError) as err:
        load_space(str(path))
    (problem,) = err.value.problems
    assert problem.startswith("settings: replicates (5) sets the fresh seeds"), problem
    assert "finalists is 0" in problem
    space = load_space("loss_ablation")  # finalists: 2, replicates: 3
    off = space.with_settings(finalists=0)
    assert "replicates" not in off.settings.given()
    assert off.with_settings(finalists=1).settings.replicates == 3
    assert "replicates" not in space.smoke().settings.given()
    with pytest.raises(ConfigError, match=re.escape("replicates (4) sets the fresh seeds")):
        off.with_settings(replicates=4)  # given where nothing re-trains: refused
