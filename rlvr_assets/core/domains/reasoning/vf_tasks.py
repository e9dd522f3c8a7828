"""Reasoning tasks from a verifiers (v1) taskset: its rows are the prompts, its task's rewards the verifier.

A verifiers 0.4 environment is a `Taskset` package whose `Task` scores a rollout `Trace` with `@vf.reward`
methods. Single-turn use: the task's reward is computed on a Trace that holds nothing but the completion
(`root_reply`), offline (no runtime, so reward hooks that need a sandbox runtime are skipped by verifiers
itself). The rewards are the user's own code and run in this process, where the user's code runs.
Multi-turn tool environments would need the tool-use domain's episode runner and a runtime: not supported.
"""

from __future__ import annotations

import asyncio
import json
from functools import lru_cache
from typing import Any, Literal

from rlvr_assets.core.domains.base import VerifierSpecBase
from rlvr_assets.core.kernel.verdict import Verdict


class VerifiersReward(VerifierSpecBase):
    """Task `key` of verifiers taskset `taskset` (built with `config`): the completion's reward is the weighted
    sum of that task's rewards on a one-reply Trace; `answer` is the row's reference answer."""

    type: Literal["verifiers_rubric"] = "verifiers_rubric"
    taskset: str
    config: str = "{}"
    key: str
    answer: str

    def summary(self) -> str:
        return self.answer


@lru_cache(maxsize=16)
def vf_tasks(taskset: str, config: str) -> dict[str, Any]:
    """key -> verifiers Task of the installed taskset package `taskset`."""
    from verifiers.v1.configs.taskset import TasksetConfig
    from verifiers.v1.taskset import Taskset
    from verifiers.v1.utils.generic import concrete_type
    from verifiers.v1.utils.loaders import taskset_class

    cls = taskset_class(taskset)
    config_cls = concrete_type(cls, TasksetConfig, origin=Taskset) or TasksetConfig
    loaded = cls(config_cls(**{"id": taskset, **json.loads(config)}))
    return {task.key: task for task in loaded}


def vf_reward(spec: VerifiersReward, completion: str) -> float:
    from verifiers.v1.trace import Trace

    task = vf_tasks(spec.taskset, spec.config)[spec.key]
    trace = Trace.model_construct(root_reply=completion, rewards={}, metrics={}, info={}, errors=[], nodes=[])
    asyncio.run(task.score(trace))
    return float(sum(r.value for r in trace.rewards.values() if r is not None))


MAX_VF_REPLY_CHARS = 20_000  # what the user's reward code is handed, at most


def verify_vf(spec: VerifiersReward, completion: str) -> Verdict:
    if not completion.strip():
        return Verdict(0.0, "empty completion")
    if len(completion) > MAX_VF_REPLY_CHARS:
        return Verdict(0.0, f"completion longer than {MAX_VF_REPLY_CHARS} characters (not scored)")
    reward = vf_reward(spec, completion)
    return Verdict(reward, f"verifiers taskset {spec.taskset} rewards gave {reward:g}")


def vf_known_bad(spec: VerifiersReward) -> list[str]:
    """Replies the taskset's rewards score 0: V_verify needs wrong answers that must fail."""
    candidates = [f"{spec.answer} 0", "I do not know.", f"not {spec.answer}"]
    return [c for c in candidates if vf_reward(spec, c) == 0.0]
