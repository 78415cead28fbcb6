"""Schedule, early stopping, collapse detection, samplers, checkpoints, configs."""

from __future__ import annotations

import itertools
import math
import pickle
from pathlib import Path

import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st

from raysearch.core.errors import ConfigError
from raysearch.core.loss_config import LossConfig
from raysearch.core.trainer_config import TrainerConfig
from raysearch.core.trial_config import TrialConfig
from raysearch.testing.train import factory, fake_data
from raysearch.train.checkpoint import capture_rng, load_checkpoint, restore_rng, save_checkpoint
from raysearch.train.collapse import detect_collapse
from raysearch.train.distributed import GlobalBatchSampler, ShardSampler
from raysearch.train.early_stopping import EarlyStopping
from raysearch.train.loop import fit
from raysearch.train.schedule import lr_factor


def test_warm_up_starts_at_the_start_factor_and_cosine_ends_at_the_floor() -> None:
    factors = [lr_factor(s, 10, 110, 0.1, 0.01) for s in range(110)]  # steps 0..109
    assert factors[0] == pytest.approx(0.1)
    assert factors[10] == pytest.approx(1.0)
    assert factors[109] == pytest.approx(0.01)  # the last step taken (it was never reached)
    warm, decay = factors[:11], factors[10:]
    assert all(a < b for a, b in itertools.pairwise(warm))
    assert all(a >= b for a, b in itertools.pairwise(decay))


@settings(max_examples=300, deadline=None)
@given(
    total=st.integers(1, 200),
    warm_share=st.floats(0, 1),
    start=st.floats(0.01, 0.99),
    floor=st.floats(0, 0.99),
)
@example(total=2, warm_share=0.5, start=0.1, floor=0.01)  # one step an epoch, 2 epochs, 1 warm
def test_the_schedule_keeps_its_promises_for_any_warm_up_and_length(
    total: int, warm_share: float, start: float, floor: float
) -> None:
    """The module's promises over every warm-up a config allows (0 <= w <= total - 1):
    the first step at the start factor, lr at the end of warm-up, the floor at the last
    step, rising through warm-up and falling after. With w = total - 1 (one step an epoch,
    warm-up of every epoch but the last) the last step ran at the full rate, not the floor."""
    warm = min(int(warm_share * total), total - 1)
    factors = [lr_factor(s, warm, total, start, floor) for s in range(total)]
    assert factors[-1] == floor  # the last step, even right after warm-up or alone
    if warm:
        assert factors[0] == start
    if warm < total - 1:
        assert factors[warm] == pytest.approx(1.0)  # the peak: warm-up's end
    peak = min(warm, total - 2)  # the last step before the floor, when warm-up ends on it
    assert all(a < b for a, b in itertools.pairwise(factors[: peak + 1]))
    assert all(a >= b for a, b in itertools.pairwise(factors[warm:]))
    assert all(min(start, floor) <= f <= 1.0 for f in factors)


@st.composite
def _decaying(draw: st.DrawFn) -> tuple[int, int, float, float]:
    """(total, warm-up, start, floor) with at least two steps of decay after warm-up."""
    total = draw(st.integers(3, 300))
    warm = draw(st.integers(0, total - 3))
    return total, warm, draw(st.floats(0.01, 0.99)), draw(st.floats(0, 0.99))


@settings(max_examples=300, deadline=None)
@given(schedule=_decaying())
@example(schedule=(111, 10, 0.1, 0.01))  # an even decay (100 steps): a step at its midpoint
@example(schedule=(110, 10, 0.1, 0.01))  # an odd one (99): two steps either side of it
@example(schedule=(9, 0, 0.1, 0.0))  # no warm-up, decay quarters on steps 2, 4, 6
def test_the_schedule_is_linear_in_warm_up_and_a_half_cosine_after_it(
    schedule: tuple[int, int, float, float],
) -> None:
    """The module's formula at every step, through identities of it rather than the formula
    itself. With D = total - 1 - w decay steps: warm-up rises from start to 1 in w equal
    steps of (1 - start) / w; half-way through the decay (step w + D / 2) the rate is half-way
    between lr and the floor, (1 + floor) / 2, and steps either side of that midpoint are
    symmetric about it; and as 0.5 * (1 + cos(2x)) = cos(x)^2, step w + d is at
    floor + (1 - floor) * cos(pi * d / (2D))^2 (the quarter points 0.854 and 0.146 of the way
    down, where a linear decay gives 0.75 and 0.25). Monotonicity and the end points alone
    (test above) held with a linear decay, a quarter cosine, a span of D + 1 or D - 1 steps,
    and a quadratic warm-up."""
    total, warm, start, floor = schedule
    span = total - 1 - warm

    def factor(step: int) -> float:
        return lr_factor(step, warm, total, start, floor)

    for s in range(warm):
        assert factor(s + 1) - factor(s) == pytest.approx((1 - start) / warm, rel=1e-9)
    if span % 2 == 0:
        assert factor(warm + span // 2) == pytest.approx((1 + floor) / 2, rel=1e-12)
    for d in range(span + 1):
        assert factor(warm + d) + factor(total - 1 - d) == pytest.approx(1 + floor, rel=1e-12)
        half_angle = math.cos(math.pi * d / (2 * span)) ** 2
        assert factor(warm + d) == pytest.approx(floor + (1 - floor) * half_angle, abs=1e-12)
    if span % 4 == 0:
        quarter = (2 + math.sqrt(2)) / 4  # cos(pi / 8)^2
        assert factor(warm + span // 4) == pytest.approx(floor + (1 - floor) * quarter)
        assert factor(warm + 3 * span // 4) == pytest.approx(floor + (1 - floor) * (1 - quarter))


def test_scheduler_steps_match_lr_factor() -> None:
    from raysearch.train.schedule import make_scheduler

    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.AdamW([p], lr=0.5)
    sched = make_scheduler(opt, 2, 6, 0.2, 0.1)
    seen = []
    for _ in range(6):
        seen.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    assert seen == pytest.approx([0.5 * lr_factor(s, 2, 6, 0.2, 0.1) for s in range(6)])


# a run's metric epoch by epoch, and the early stopping rule it is judged by
STOPPING = {
    "values": st.lists(st.floats(-5, 5), min_size=1, max_size=30),
    "patience": st.integers(1, 5),
    "min_delta": st.floats(0, 1),
    "min_epochs": st.integers(1, 10),
}


@settings(max_examples=100, deadline=None)
@given(**STOPPING)
def test_early_stopping_rule(values, patience, min_delta, min_epochs) -> None:
    """Stops at the first epoch >= min_epochs with patience epochs since an improvement of
    more than min_delta over the best so far (a reference implementation of the rule)."""
    stopper = EarlyStopping(patience, min_delta, min_epochs)
    best, bad, expected_stop = float("inf"), 0, None
    for epoch, v in enumerate(values, start=1):
        if v < best - min_delta:
            best, bad = v, 0
        else:
            bad += 1
        if expected_stop is None and epoch >= min_epochs and bad >= patience:
            expected_stop = epoch
        if stopper.update(v):
            assert epoch == expected_stop
            return
    assert expected_stop is None


@settings(max_examples=100, deadline=None)
@given(**STOPPING, cut=st.integers(0, 30))
@example(values=[1.0, 2.0, 3.0], patience=2, min_delta=0.0, min_epochs=3, cut=2)
def test_a_restored_stopper_stops_where_an_uninterrupted_one_does(
    values, patience, min_delta, min_epochs, cut
) -> None:
    """A resume restores the stopper from its checkpoint: its best value, the bad epochs
    since it and the epochs it has seen. Any of them lost, the resumed run stopped at
    another epoch than the run never interrupted."""
    whole = EarlyStopping(patience, min_delta, min_epochs)
    expected = [whole.update(v) for v in values]
    before = EarlyStopping(patience, min_delta, min_epochs)
    stops = [before.update(v) for v in values[:cut]]
    after = EarlyStopping(patience, min_delta, min_epochs)
    after.load_state_dict(before.state_dict())
    assert stops + [after.update(v) for v in values[cut:]] == expected


def test_collapse_by_tiny_loss_or_constant_predictions() -> None:
    flags = detect_collapse(
        {"a": 1e-7, "b": 0.5, "c": 0.5}, {"a": 0.3, "b": 0.0, "c": 0.2}, 1e-5, 1e-6
    )
    assert flags == {"a": True, "b": True, "c": False}


@pytest.mark.parametrize("world", [1, 2, 4])
def test_global_batches_are_the_same_for_any_world_size(world: int) -> None:
    n, batch = 37, 8
    ranks = [GlobalBatchSampler(n, batch, r, world, seed=3) for r in range(world)]
    single = GlobalBatchSampler(n, batch, 0, 1, seed=3)
    for s in [*ranks, single]:
        s.set_epoch(2)
    per = batch // world
    shards = [list(s) for s in ranks]
    rebuilt = []
    for j in range(n // batch):
        for shard in shards:
            rebuilt += shard[j * per : (j + 1) * per]
    assert rebuilt == list(single)
    assert len(set(rebuilt)) == (n // batch) * batch  # no repeats; only the tail is dropped
    single.set_epoch(3)
    assert list(single) != rebuilt  # a new order each epoch


def test_shard_sampler_covers_every_sample_once_without_padding() -> None:
    shards = [list(ShardSampler(10, r, 3)) for r in range(3)]
    assert sorted(i for shard in shards for i in shard) == list(range(10))


def test_checkpoint_write_is_atomic_and_round_trips(tmp_path: Path) -> None:
    save_checkpoint(tmp_path, {"epoch": 1, "w": torch.ones(2)})
    save_checkpoint(tmp_path, {"epoch": 2, "w": torch.zeros(2)})
    assert [p.name for p in tmp_path.iterdir()] == ["checkpoint.pt"]  # no temp file left
    state = load_checkpoint(tmp_path)
    assert state["epoch"] == 2 and torch.equal(state["w"], torch.zeros(2))
    with pytest.raises(FileNotFoundError, match=r"checkpoint\.pt"):
        load_checkpoint(tmp_path / "missing")


def test_trainer_config_collects_every_problem_and_pickles() -> None:
    with pytest.raises(ConfigError) as err:
        TrainerConfig(lr=-1.0, batch_size=0, amp="fp8", warmup_epochs=5, max_epochs=5)
    text = str(err.value)
    for word in ("lr", "-1.0", "batch_size", "amp", "'fp8'", "warmup_epochs"):
        assert word in text
    # a warm-up as long as the training says how to get out of it (raysearch run
    # --max-epochs 1 meets it with the default warm-up of one epoch)
    assert "fixed: {trainer.warmup_epochs: 0}" in text
    cfg = TrialConfig()
    assert pickle.loads(pickle.dumps(cfg)) == cfg
    with pytest.raises(ConfigError, match="trainer"):
        TrialConfig(trainer={"lr": 1})  # type: ignore[arg-type]


@pytest.mark.parametrize("native", [True, False])
def test_amp_auto_takes_bf16_only_on_a_gpu_that_computes_it_natively(
    monkeypatch: pytest.MonkeyPatch, native: bool
) -> None:
    """amp 'auto' took bf16 on every CUDA device. A pre-Ampere GPU (T4, V100) only
    emulates bf16, slower than float32, and torch.cuda.is_bf16_supported() says yes there
    unless asked without emulation. 'bf16' is the user's explicit choice; 'off' and the
    CPU never autocast. (No GPU here: torch.cuda's answer is faked.)"""
    from raysearch.train.loop import amp_dtype

    monkeypatch.setattr(
        torch.cuda,
        "is_bf16_supported",
        lambda including_emulation=True: native or including_emulation,
    )
    cuda, cpu = torch.device("cuda", 0), torch.device("cpu")
    assert amp_dtype("auto", cuda) == (torch.bfloat16 if native else None)
    assert amp_dtype("bf16", cuda) == torch.bfloat16 == amp_dtype("bf16", cpu)
    assert amp_dtype("off", cuda) is None and amp_dtype("auto", cpu) is None


class _FakeGpus:
    """torch.cuda's generator functions for ``count`` visible GPUs, this process on GPU
    ``current`` (no GPU here): each device's state is a distinct byte tensor."""

    def __init__(self, count: int, current: int) -> None:
        self.states = [torch.full((8,), 10 * i, dtype=torch.uint8) for i in range(count)]
        self.current = current

    def _index(self, device: int | str | torch.device) -> int:
        if isinstance(device, torch.device):
            device = "cuda" if device.index is None else device.index
        index = self.current if device == "cuda" else int(device)
        if not 0 <= index < len(self.states):  # as CUDA refuses a device it does not have
            raise RuntimeError(f"CUDA error: invalid device ordinal {index}")
        return index

    def get(self, device: int | str | torch.device = "cuda") -> torch.Tensor:
        return self.states[self._index(device)].clone()

    def set(self, state: torch.Tensor, device: int | str | torch.device = "cuda") -> None:
        self.states[self._index(device)] = state.clone()

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        for name, fake in {
            "is_available": lambda: True,
            "device_count": lambda: len(self.states),
            "current_device": lambda: self.current,
            "get_rng_state": self.get,
            "set_rng_state": self.set,
            "get_rng_state_all": lambda: [self.get(i) for i in range(len(self.states))],
            "set_rng_state_all": lambda states: [self.set(s, i) for i, s in enumerate(states)],
        }.items():
            monkeypatch.setattr(torch.cuda, name, fake)


def test_a_checkpoint_resumes_on_another_gpu_layout_with_its_device_generator(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Found by review (no GPU here: torch.cuda's generators are faked): each rank kept the
    generator of every GPU it saw. Rank 2 of a trial on one 4-GPU node, where each worker
    sees the four, resumed on a 1-GPU node: restoring four generators into one GPU failed
    (invalid device ordinal). Now a rank keeps and restores the generator of the GPU it
    trains on."""
    node = _FakeGpus(count=4, current=2)
    with monkeypatch.context() as patched:
        node.install(patched)
        saved = capture_rng(torch.device("cuda", 2))
    elsewhere = _FakeGpus(count=1, current=0)
    elsewhere.install(monkeypatch)
    restore_rng(saved, torch.device("cuda", 0))
    assert torch.equal(elsewhere.states[0], node.states[2])


def test_a_checkpoint_from_before_restores_the_generator_of_the_same_device_index(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    cpu = torch.device("cpu")
    old = {**capture_rng(cpu), "cuda": [torch.full((8,), v, dtype=torch.uint8) for v in (7, 9)]}
    gpus = _FakeGpus(count=1, current=0)
    gpus.install(monkeypatch)
    restore_rng(old, torch.device("cuda", 0))
    assert gpus.states[0].tolist() == [7] * 8


def test_a_cpu_trial_on_a_gpu_node_leaves_cuda_alone_to_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Found by review: a trial training on the CPU sees its node's GPUs (Ray leaves
    CUDA_VISIBLE_DEVICES alone for a process given no GPU), and each checkpoint read CUDA's
    generator, which starts a CUDA context on a GPU another trial may hold."""
    gpus = _FakeGpus(count=4, current=0)
    gpus.install(monkeypatch)
    touched: list[str] = []
    for name in ("get_rng_state", "set_rng_state"):
        monkeypatch.setattr(torch.cuda, name, lambda *a, _n=name, **k: touched.append(_n))
    trainer = TrainerConfig(
        device="cpu", max_epochs=2, batch_size=8, lr=1e-2, min_epochs=1, warmup_epochs=0,
        score_test=False,
    )  # fmt: skip
    cfg = TrialConfig(loss=LossConfig(strategy="uniform"), trainer=trainer)
    data = fake_data(n_train=32)
    fit(cfg, data, checkpoint_dir=tmp_path, model_factory=factory())
    fit(cfg, data, resume_from=tmp_path, model_factory=factory())
    assert touched == []
