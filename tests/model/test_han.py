"""The whole network: outputs, masks, causality, gradients, presets, source subsets."""

from __future__ import annotations

import copy

import pytest
import torch

from raysearch.core.errors import ConfigError, DataError
from raysearch.core.model_config import ModelConfig, list_presets
from raysearch.core.spec import TaskKind
from raysearch.model.han import RETIRED_KEYS, build_model
from raysearch.model.parameters import parameter_counts
from raysearch.model.specs import make_spec, tiny_spec
from raysearch.testing.model import random_batch

SPEC = tiny_spec()
PRESETS = list_presets()


def _model(size: str = "tiny", spec=SPEC, seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(spec, ModelConfig(size=size)).eval()


def _expected_shape(task, b: int) -> tuple[int, ...]:
    kind = TaskKind(task.kind)
    return {
        TaskKind.CLASSIFICATION: (b, task.n_outputs),
        TaskKind.BINARY: (b,),
        TaskKind.COUNT: (b, 3),
        TaskKind.REGRESSION: (b,),
        TaskKind.FORECAST: (b, task.n_outputs),
        TaskKind.DAILY_FORECAST: (b, task.horizon, task.n_outputs),
    }[kind]


def _sources(batch: dict):
    for res in ("daily", "monthly", "raion"):
        yield from batch[res].values()


@pytest.mark.parametrize("size", PRESETS)
def test_every_preset_gives_finite_outputs_of_the_contract_shapes(size: str) -> None:
    batch = random_batch(SPEC, batch_size=2, seed=1)
    out = _model(size)(batch)
    assert set(out) == set(SPEC.task_names)  # no uncertainty estimate: no loss trains one
    for task in SPEC.tasks:
        assert out[task.name].shape == _expected_shape(task, 2), task.name
    assert all(torch.isfinite(v).all() for v in out.values())


POISONS = torch.tensor([-999.0, float("nan"), 1e9, float("inf"), -1e9])


@pytest.mark.parametrize("size", PRESETS)
def test_masked_values_never_change_any_output(size: str) -> None:
    model = _model(size)
    batch = random_batch(SPEC, batch_size=2, seed=2)
    ref = model(batch)
    for k in range(len(POISONS) + 1):  # each poison alone, then all of them mixed
        bad = copy.deepcopy(batch)
        n_poisoned = 0
        for src in _sources(bad):
            mixed = POISONS[torch.arange(src["x"].numel()) % len(POISONS)].view_as(src["x"])
            poison = mixed if k == len(POISONS) else POISONS[k]
            src["x"] = torch.where(src["m"], src["x"], poison)
            n_poisoned += int((~src["m"]).sum())
        assert n_poisoned > 0
        out = model(bad)
        for name in ref:
            torch.testing.assert_close(out[name], ref[name], rtol=0, atol=0, msg=name)


@pytest.mark.parametrize("size", PRESETS)
def test_nan_in_masked_positions_reaches_no_gradient(size: str) -> None:
    model = _model(size).train()
    batch = random_batch(SPEC, batch_size=2, seed=3)
    assert any(bool((~src["m"]).any()) for src in _sources(batch))  # some NaN goes in
    for src in _sources(batch):
        src["x"] = torch.where(src["m"], src["x"], torch.tensor(float("nan")))
    out = model(batch)
    sum(v.sum() for v in out.values()).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name


def test_partially_observed_timestep_ignores_its_masked_features() -> None:
    # report 002: a day with SOME features observed must still ignore the masked ones
    model = _model()
    batch = random_batch(SPEC, batch_size=2, seed=4, missing=0.0)
    src = batch["daily"]["equipment"]
    src["m"][:, 10, 1] = False
    src["x"][:, 10, 1] = 0.0
    ref = model(batch)["regime"]
    src["x"][:, 10, 1] = -999.0
    torch.testing.assert_close(model(batch)["regime"], ref, rtol=0, atol=0)


def _perturb_days(batch: dict, select: torch.Tensor, seed: int) -> dict:
    """New values and masks on the days where select (B, T) is True."""
    g = torch.Generator().manual_seed(seed)
    out = copy.deepcopy(batch)
    for res in ("daily", "raion"):
        for src in out[res].values():
            sel = select.view(*select.shape, *([1] * (src["x"].dim() - 2)))
            m = torch.rand(src["m"].shape, generator=g) > 0.5
            x = torch.where(m, torch.randn(src["x"].shape, generator=g) * 5, 0.0)
            src["m"] = torch.where(sel, m, src["m"])
            src["x"] = torch.where(sel, x, src["x"])
    cal = torch.randint(0, 7, out["calendar"].shape, generator=g)
    out["calendar"] = torch.where(select[..., None], cal, out["calendar"])
    return out


@pytest.mark.parametrize(("size", "t"), [(s, t) for s in PRESETS for t in (0, 17, 38)])
def test_daily_stream_is_causal(size: str, t: int) -> None:
    model = _model(size)
    batch = random_batch(SPEC, batch_size=2, seed=5)
    later = torch.arange(SPEC.daily_window)[None].expand(2, -1) > t
    ref = model.encode(batch)["daily"]
    new = model.encode(_perturb_days(batch, later, seed=t))["daily"]
    torch.testing.assert_close(new[:, : t + 1], ref[:, : t + 1], rtol=0, atol=1e-6)
    assert not torch.allclose(new[:, t + 1 :], ref[:, t + 1 :])


@pytest.mark.parametrize(("size", "j"), [(s, j) for s in PRESETS for j in (0, 1)])
def test_month_slots_are_causal(size: str, j: int) -> None:
    model = _model(size)
    batch = random_batch(SPEC, batch_size=2, seed=6)
    later = batch["day_month"] > j  # days of months after j (and no day before the window)
    new_batch = _perturb_days(batch, later, seed=j)
    g = torch.Generator().manual_seed(j)
    for src in new_batch["monthly"].values():
        src["m"][:, j + 1 : -1] = torch.rand(src["m"][:, j + 1 : -1].shape, generator=g) > 0.3
        src["x"][:, j + 1 :] = torch.where(src["m"][:, j + 1 :], 3.0, 0.0)
    ref, new = model.encode(batch), model.encode(new_batch)
    for key in ("aggregated", "monthly", "months"):
        torch.testing.assert_close(new[key][:, : j + 1], ref[key][:, : j + 1], rtol=0, atol=1e-6)
    assert not torch.allclose(new["months"][:, -1], ref["months"][:, -1])


@pytest.mark.parametrize("size", PRESETS)
def test_gradients_reach_every_parameter(size: str) -> None:
    model = _model(size).train()
    batch = random_batch(SPEC, batch_size=2, seed=7)
    for src in batch["raion"].values():  # a day with no raion observed: the no-obs token
        src["m"][:, 5] = False
        src["x"][:, 5] = 0.0
    out = model(batch)
    g = torch.Generator().manual_seed(0)
    loss = sum((v * torch.randn(v.shape, generator=g)).sum() for v in out.values())
    loss.backward()
    dead = [n for n, p in model.named_parameters() if p.grad is None or not p.grad.any()]
    assert dead == []


def test_parameter_counts_grow_with_the_preset() -> None:
    totals = [parameter_counts(SPEC, ModelConfig(size=s))["total"] for s in list_presets()]
    assert totals == sorted(totals) and len(set(totals)) == len(totals)
    wider = parameter_counts(SPEC, ModelConfig(size="tiny", d_model=32))["total"]
    deeper = parameter_counts(SPEC, ModelConfig(size="tiny", layers=2))["total"]
    assert wider > totals[0] and deeper > totals[0]


SUBSETS = {
    "daily only": ({"a": 3, "b": 2}, {}, {}),
    "monthly only": ({}, {"m": 4}, {}),
    "raion only": ({}, {}, {"r": 2}),
    "daily and raion": ({"a": 3}, {}, {"r": 2}),
    "monthly and raion": ({}, {"m": 2}, {"r": 3}),
}


@pytest.mark.parametrize("name", list(SUBSETS))
def test_any_subset_of_sources_builds_only_its_stages(name: str) -> None:
    daily, monthly, raion = SUBSETS[name]
    tasks = ("regime", "casualty") + (("daily_forecast",) if daily or raion else ("forecast",))
    spec = make_spec(daily, monthly, raion, tasks=tasks, coords=name != "raion only")
    model = _model(spec=spec)
    out = model(random_batch(spec, batch_size=2, seed=8))
    assert set(out) == set(tasks)
    assert all(torch.isfinite(v).all() for v in out.values())
    stages = {n for n, _ in model.named_children()}
    assert ("monthly_encoders" in stages) == bool(monthly)
    assert ("raion_encoders" in stages) == bool(raion)
    assert ("daily_encoders" in stages) == bool(daily or raion)
    assert ("cross_resolution" in stages) == bool(monthly and (daily or raion))


def test_an_unbuildable_spec_lists_every_problem() -> None:
    spec = make_spec({}, {"m": 2}, {}, tasks=("daily_forecast",))
    bad = type(spec)(spec.sources, spec.tasks, 0, 0, 0, ((0.0, 0.0),))
    with pytest.raises(ConfigError) as err:
        build_model(bad, ModelConfig(size="tiny"))
    text = str(err.value)
    for what in ("daily_window", "monthly_window", "raion_coords", "daily forecast"):
        assert what in text


def test_runs_under_bf16_autocast_on_cpu() -> None:
    model = _model("small")
    batch = random_batch(SPEC, batch_size=2, seed=9)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(batch)
    assert all(v.dtype == torch.float32 and torch.isfinite(v).all() for v in out.values())


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_forward_backward_under_cuda_bf16_autocast() -> None:
    model = _model("small").cuda().train()
    batch = random_batch(SPEC, batch_size=2, seed=10)

    def to_cuda(obj):
        if isinstance(obj, dict):
            return {k: to_cuda(v) for k, v in obj.items()}
        return obj.cuda()

    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = model(to_cuda(batch))
    sum(v.sum() for v in out.values()).backward()
    assert all(torch.isfinite(v).all() for v in out.values())


def test_a_batch_missing_sources_or_features_is_one_clear_error() -> None:
    batch = random_batch(SPEC, batch_size=2, seed=11)
    del batch["daily"]["personnel"]
    src = batch["monthly"]["sentinel"]
    src["x"], src["m"] = src["x"][..., :2], src["m"][..., :2]
    del batch["day_month"]
    with pytest.raises(DataError) as err:
        _model()(batch)
    text = str(err.value)
    assert len(err.value.problems) == 3
    assert "'personnel'" in text and "'sentinel'" in text and "4 features" in text
    assert "day_month" in text


def test_every_parameter_joins_the_graph_even_with_nothing_missing() -> None:
    # DDP (Ray Train, >= 2 workers) needs every parameter in every step's graph
    model = _model().train()
    out = model(random_batch(SPEC, batch_size=2, seed=12, missing=0.0))
    sum(v.sum() for v in out.values()).backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def test_every_parameter_joins_the_graph_without_raion_coordinates() -> None:
    # original_spec() and any dataset without raion coordinates: no geographic bias
    spec = make_spec(daily={"a": 2}, monthly={"b": 2}, raion={"c": 2}, coords=False)
    torch.manual_seed(0)
    model = build_model(spec, ModelConfig(size="tiny")).train()
    out = model(random_batch(spec, batch_size=2, seed=1, missing=0.0))
    sum(v.sum() for v in out.values()).backward()
    assert [n for n, p in model.named_parameters() if p.grad is None] == []


def _with_the_uncertainty_head(state: dict, d: int) -> dict:
    """``state`` as the model wrote it while it had the uncertainty head (its last module)."""
    head = {
        "uncertainty.log_scale": torch.zeros(()),
        "uncertainty.net.weight": torch.randn(1, d),
        "uncertainty.net.bias": torch.zeros(1),
    }
    assert set(head) == set(RETIRED_KEYS)
    return {**state, **head}


def test_a_state_dict_holding_the_uncertainty_head_loads_without_it() -> None:
    """A checkpoint written while the model had the head loads: exactly its weights are
    dropped, every other weight is loaded, and the caller's dict is left as it was."""
    source, target = _model(seed=1), _model(seed=2)
    d = ModelConfig(size="tiny").resolve().d_model
    old = _with_the_uncertainty_head(source.state_dict(), d)
    result = target.load_state_dict(old)
    assert (result.missing_keys, result.unexpected_keys) == ([], [])
    assert set(RETIRED_KEYS) <= set(old)
    for key, value in source.state_dict().items():
        assert torch.equal(target.state_dict()[key], value), key
    batch = random_batch(SPEC, batch_size=2, seed=3)
    for name, value in source(batch).items():
        torch.testing.assert_close(target(batch)[name], value, rtol=0, atol=0)


@pytest.mark.parametrize("extra", ["uncertainty.net.scale", "uncertainty.weight", "head.x"])
def test_any_other_key_the_model_lacks_is_still_refused(extra: str) -> None:
    d = ModelConfig(size="tiny").resolve().d_model
    old = {**_with_the_uncertainty_head(_model().state_dict(), d), extra: torch.zeros(1)}
    with pytest.raises(RuntimeError, match="Unexpected key") as err:
        _model().load_state_dict(old)
    assert extra in str(err.value)
    assert not any(key in str(err.value) for key in RETIRED_KEYS)
    assert _model().load_state_dict(old, strict=False).unexpected_keys == [extra]
