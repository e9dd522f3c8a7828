"""Dynamic sampling: which prompts a GRPO step takes, given the pass rates the gate and training measured."""

from itertools import islice

import pytest

from rlvr_assets.core.training.dynamic_sampling import InformativeSampler, PassRateTracker, gate_pass_rates


def _steps(sampler: InformativeSampler, n_steps: int) -> list[list[int]]:
    """The prompts of the first `n_steps` steps (over epochs, as the trainer iterates), checking each prompt is
    repeated num_generations times in a row."""
    size = sampler.prompts_per_step * sampler.num_generations
    flat = list(islice((i for _ in range(n_steps) for i in sampler), n_steps * size))
    steps = []
    for s in range(n_steps):
        chunk = flat[s * size : (s + 1) * size]
        groups = [chunk[i : i + sampler.num_generations] for i in range(0, size, sampler.num_generations)]
        assert all(len(set(g)) == 1 for g in groups), chunk
        steps.append([g[0] for g in groups])
    return steps


def _sampler(ids, tracker, **kw) -> InformativeSampler:
    args = {"prompts_per_step": 1, "num_generations": 4, "steps_per_epoch": len(ids), "seed": 0, "recheck": 3}
    return InformativeSampler(ids, tracker, **{**args, **kw})


def test_gate_pass_rates_mark_all_fail_and_all_pass_prompts_uninformative() -> None:
    rows = [
        {"variant_id": "zero", "factor": "verify", "pass_rate": 0.0},
        {"variant_id": "half", "factor": "verify", "pass_rate": 0.5},
        {"variant_id": "one", "factor": "verify", "pass_rate": 1.0},
        {"variant_id": "none", "factor": "verify", "pass_rate": None},
    ]
    tracker = PassRateTracker.from_pass_rates(gate_pass_rates(rows, 8))
    assert tracker.informative("zero") is False and tracker.informative("one") is False
    assert tracker.informative("half") is True
    assert tracker.informative("none") is None and tracker.informative("never-rolled-out") is None
    tracker.record("zero", [0.0, 1.0, 0.0, 0.0])  # the policy moved: its training group disagreed
    assert tracker.informative("zero") is True


def test_prompts_whose_group_agreed_are_redrawn_until_their_recheck() -> None:
    ids = ["a", "b", "c", "d"]
    tracker = PassRateTracker.from_pass_rates({"a": (0.0, 8), "b": (1.0, 8), "c": (0.25, 8)})
    sampler = _sampler(ids, tracker, recheck=3)
    steps = _steps(sampler, 4)
    drawn = [ids[s[0]] for s in steps]
    assert set(drawn) <= {"c", "d"}, drawn  # d is unknown: kept, as DAPO keeps unscreened prompts
    assert sum(d.redrawn for d in sampler.draws[:4]) > 0
    assert all(d.forced == 0 for d in sampler.draws[:4])
    # after `recheck` skips an uninformative prompt is tried again (its evidence may be stale)
    more = [ids[s[0]] for s in _steps(_sampler(ids, tracker, recheck=1), 8)]
    assert {"a", "b"} & set(more)


def test_when_every_prompt_agreed_the_step_still_runs_and_says_so() -> None:
    tracker = PassRateTracker.from_pass_rates({"a": (0.0, 8), "b": (0.0, 8)})
    sampler = _sampler(["a", "b"], tracker, prompts_per_step=2, recheck=10)
    (step,) = _steps(sampler, 1)
    assert sorted(step) == [0, 1]
    assert sampler.draws[0].forced == 2 and sampler.draws[0].redrawn == 0


def test_disabled_sampler_draws_every_prompt_once_per_epoch() -> None:
    ids = ["a", "b", "c", "d", "e"]
    tracker = PassRateTracker.from_pass_rates({i: (0.0, 8) for i in ids})
    sampler = _sampler(ids, tracker, enabled=False)
    assert len(sampler) == 5 * 4
    assert sorted(s[0] for s in _steps(sampler, 5)) == [0, 1, 2, 3, 4]
    assert all(d.redrawn == 0 and d.forced == 0 for d in sampler.draws)


def test_small_corpus_is_cycled_to_fill_a_step() -> None:
    sampler = _sampler(["a"], PassRateTracker(), prompts_per_step=3)
    (step,) = _steps(sampler, 1)
    assert step == [0, 0, 0]


def test_empty_corpus_is_an_error() -> None:
    with pytest.raises(ValueError, match="empty corpus"):
        _sampler([], PassRateTracker())
