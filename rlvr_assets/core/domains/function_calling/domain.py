"""Function calling: multi-turn tool use against a simulated, stateful environment.

Seeds name an environment (`filesystem`, `calendar`, `bank`; core/domains/function_calling/environments.py) with its initial state,
the expected final state and the calls that must occur. Rollouts are live episodes: tool results come back
as the next turn, and the reward comes from the final state and the required calls. A seed with `params`
writes its reference turns, required calls and known-bad turns as templates over them (`{folder}`): the
templates are its solution program, and rendering them for new params and replaying the reference
re-derives the expected state, the way a reasoning task's `solve(**params)` re-derives its answer. Every
tool call, replays included, runs in the tool sandbox (core/domains/function_calling/tool_sandbox.py). The held-out BFCL categories are function
calling too: their specs (`BFCLCalls`, `BFCLMultiTurn`) are checked by BFCL's rules (core/domains/function_calling/bfcl.py).
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

from rlvr_assets.core.domains.base import (
    PROMPT_TEXT_OPERATORS,
    DerivedTruths,
    Domain,
    GroundTruth,
    SeedFieldError,
    Solution,
    TaskView,
    VariantChange,
    is_solution,
    parent_truth,
)
from rlvr_assets.core.domains.function_calling.distractors import add_distractors
from rlvr_assets.core.domains.function_calling.environments import Environment, check_episode, system_prompt
from rlvr_assets.core.domains.function_calling.environments import Episode as EnvironmentRun
from rlvr_assets.core.domains.function_calling.spec import BFCLCalls, BFCLMultiTurn, EnvironmentOutcome, ToolCall
from rlvr_assets.core.kernel.episodes import Episode, Message, ToolEpisode
from rlvr_assets.core.kernel.failures import Rejected
from rlvr_assets.core.kernel.verdict import Verdict

if TYPE_CHECKING:
    from rlvr_assets.core.domains.function_calling.bfcl import BFCLTools


class FunctionCalling(Domain):
    name: ClassVar[str] = "function_calling"
    seed_fields: ClassVar[frozenset[str]] = frozenset(
        {"environment", "expected_state", "required_calls", "reference", "max_turns"}
    )
    required_seed_fields: ClassVar[tuple[str, ...]] = ("environment", "reference")
    default_instruction: ClassVar[str] = "Use the tools to do this. When you are finished, say so briefly."
    spec_types = (EnvironmentOutcome, BFCLCalls, BFCLMultiTurn)
    multi_turn: ClassVar[bool] = True
    operators: ClassVar[frozenset[str]] = PROMPT_TEXT_OPERATORS | {"resample_params", "obscure_goal", "add_distractors"}
    hint: ClassVar[str | None] = "Look at the current state with the tools before you change anything."
    format_example: ClassVar[str | None] = (
        'For example, one tool call is written as: <tool_call>{"name": "tool_name", "arguments": '
        '{"argument": "value"}}</tool_call>'
    )
    vague_instruction: ClassVar[str | None] = "Take care of it."

    def seed_truth(self, record: Mapping[str, Any]) -> dict[str, Any]:
        reference = record["reference"]
        if not is_solution(reference, True):
            raise SeedFieldError("reference", "must be a list of assistant turns (strings)")
        env = record["environment"]
        if not isinstance(env, dict):
            raise SeedFieldError("environment", "must be an object with name and initial_state")
        params = record.get("params") or {}
        required_calls = record.get("required_calls", [])
        program = None
        if params:  # a parametric goal: reference, calls and known-bad turns are templates over params
            program = solution_templates(reference, required_calls, record.get("known_bad", []))
            reference, required_calls = fill(reference, params), fill(required_calls, params)
        outcome = EnvironmentOutcome(
            expected_state=fill(record.get("expected_state", {}), params),
            required_calls=required_calls,
            **({"max_turns": record["max_turns"]} if "max_turns" in record else {}),
        )
        return {
            "verifier": outcome,
            "environment": Environment(**env),
            "reference_solution": reference,
            "solution_program": program,
        }

    def seed_known_bad(self, known_bad: list[Solution], params: Mapping[str, Any]) -> list[Solution]:
        return fill(known_bad, dict(params)) if params else known_bad

    def default_system(self, truth: Mapping[str, Any]) -> str | None:
        """The tool protocol and the environment's tool schemas."""
        env = truth.get("environment")
        return system_prompt(env.name) if isinstance(env, Environment) else None

    def verify(self, task: TaskView, completion: Solution) -> Verdict:
        spec = task.verifier
        text = completion if isinstance(completion, str) else "\n".join(completion)
        if isinstance(spec, EnvironmentOutcome) and task.environment is not None:
            return check_episode(task.environment, spec, completion)
        if isinstance(spec, BFCLMultiTurn):
            from rlvr_assets.core.domains.function_calling.bfcl import check_bfcl_multi_turn

            return check_bfcl_multi_turn(spec.entry, spec.ground_truth, text)
        if isinstance(spec, BFCLCalls):
            from rlvr_assets.core.domains.function_calling.bfcl import check_bfcl_single

            return check_bfcl_single(text, spec.functions, spec.ground_truth)
        return Verdict(0.0, f"function-calling task carries a {spec.type} verifier without an environment")

    def derive_truths(self, parent: TaskView, changes: Sequence[VariantChange]) -> DerivedTruths:
        """New params: a new goal (render the templated solution, replay it); a new initial state: replay
        the reference there. Wording changes keep the parent's truth."""
        truths: list[GroundTruth | Rejected] = []
        for change in changes:
            environment = change.environment or parent.environment
            if dict(change.params) != parent.prompt.params:
                if environment is None:
                    truths.append(Rejected("task has no environment to replay a new goal in"))
                else:
                    truths.append(derive_goal_truth(parent, dict(change.params), environment))
            elif environment != parent.environment and environment is not None:
                truths.append(_replayed_truth(parent, environment))
            else:
                truths.append(parent_truth(parent))
        return DerivedTruths(truths)

    def unstated_params(self, variant: TaskView) -> list[str]:
        return [k for k, val in variant.prompt.params.items() if str(val) not in variant.prompt_text]

    def add_distractors(self, environment: Any, rng: random.Random) -> Any:
        return add_distractors(environment, rng)

    def start_episode(self, task: TaskView) -> Episode:
        spec = task.verifier
        if isinstance(spec, BFCLMultiTurn):
            return BFCLEpisode(list(task.messages), spec)
        if isinstance(spec, EnvironmentOutcome) and task.environment is not None:
            return ToolEpisode(list(task.messages), EnvironmentRun(task.environment), spec.max_turns)
        return super().start_episode(task)


@dataclass
class BFCLEpisode:
    """BFCL multi-turn: each user turn is answered by steps of calls, executed by BFCL's classes in a
    session of the tool sandbox that lives as long as the episode, until the model answers without a call;
    then the next user turn arrives. Calls naming anything but the task's functions are refused (and kept
    in the completion, which the checker then fails). The completion is the decoded calls (turns -> steps
    -> call strings), what BFCL's checker reads."""

    messages: list[Message]
    spec: BFCLMultiTurn
    done: bool = False
    decoded: list[list[list[str]]] = field(default_factory=lambda: [[]])
    steps: int = 0
    tools: BFCLTools | None = field(default=None, repr=False)

    def advance(self, text: str) -> None:
        from rlvr_assets.core.domains.function_calling.bfcl import BFCLTools, decode_turn

        self.messages = [*self.messages, {"role": "assistant", "content": text}]
        calls = decode_turn(text)
        if calls:
            if self.tools is None:
                self.tools = BFCLTools(self.spec.entry)
            results = self.tools.execute(calls)
            self.decoded[-1].append(calls)
            self.messages += [{"role": "tool", "content": res} for res in results]
            self.steps += 1
        if not calls or self.steps >= self.spec.max_steps_per_turn:
            self._next_user_turn()

    def _next_user_turn(self) -> None:
        turn = len(self.decoded)
        if turn > len(self.spec.later_user_turns):
            self.done = True
            if self.tools is not None:
                self.tools.close()
            return
        self.messages = [*self.messages, {"role": "user", "content": self.spec.later_user_turns[turn - 1]}]
        self.decoded.append([])
        self.steps = 0

    def completion(self) -> str:
        return json.dumps(self.decoded)


def fill(value: Any, params: dict[str, Any]) -> Any:
    """Substitute `{name}` for each param in strings, lists and dicts; a string that is exactly one
    placeholder takes the param's own value (so `"{amount}"` becomes a number in a JSON argument)."""
    if isinstance(value, str):
        whole = re.fullmatch(r"\{(\w+)\}", value)
        if whole and whole.group(1) in params:
            return params[whole.group(1)]
        if not params:
            return value
        names = "|".join(re.escape(k) for k in params)
        return re.sub(r"\{(" + names + r")\}", lambda m: str(params[m.group(1)]), value)
    if isinstance(value, list):
        return [fill(v, params) for v in value]
    if isinstance(value, dict):
        return {str(fill(k, params)): fill(v, params) for k, v in value.items()}
    return value


def solution_templates(reference: list[str], required_calls: list[Any], known_bad: list[Any]) -> str:
    """The solution program of a parametric function-calling task (stored on the task, hashed into its id)."""
    return json.dumps(
        {"reference": reference, "required_calls": required_calls, "known_bad": known_bad}, sort_keys=True
    )


def rendered_solution(task: TaskView, params: dict[str, Any]) -> tuple[list[str], list[ToolCall], list[list[str]]]:
    """The task's reference turns, required calls and known-bad turns for `params`."""
    assert task.solution_program is not None
    templates = json.loads(task.solution_program)
    calls = [ToolCall(**c) for c in fill(templates["required_calls"], params)]
    return fill(templates["reference"], params), calls, fill(templates["known_bad"], params)


def replay_expected_state(
    reference: list[str], environment: Environment, keys: list[str], baseline: Environment | None = None
) -> dict[str, Any] | Rejected:
    """The final state (for `keys`) after replaying `reference` in `environment`, or why it failed. With a
    `baseline` environment, a tool error the same replay also gives there is tolerated (only new ones fail)."""
    episode = EnvironmentRun(environment)
    before = EnvironmentRun(baseline) if baseline is not None else None
    where = " in the new environment" if baseline is not None else ""
    for turn in reference:
        results = episode.step(turn)
        old = before.step(turn) if before is not None else [None] * len(results)
        errors = [r for o, r in zip(old, results, strict=True) if '"error"' in r and o != r]
        if errors:
            return Rejected(f"reference solution fails{where}: {errors[0]}")
    return {key: episode.state.get(key) for key in keys}


def derive_goal_truth(parent: TaskView, params: dict[str, Any], environment: Environment) -> GroundTruth | Rejected:
    """Verifier, reference and known-bad turns of `parent` with its goal re-parametrised by `params`."""
    spec = parent.verifier
    if not isinstance(spec, EnvironmentOutcome) or parent.solution_program is None:
        return Rejected("task has no parametric goal to re-derive")
    reference, calls, known_bad = rendered_solution(parent, params)
    expected = replay_expected_state(reference, environment, list(spec.expected_state))
    if isinstance(expected, Rejected):
        return expected
    parent_turns = parent.reference_solution if isinstance(parent.reference_solution, list) else []
    bad: list[Solution] = list(known_bad)
    if parent_turns != reference:  # the old goal's solution must not pass the new goal
        bad.append(parent_turns)
    return GroundTruth(spec.model_copy(update={"expected_state": expected, "required_calls": calls}), reference, bad)


def _replayed_truth(parent: TaskView, environment: Environment) -> GroundTruth | Rejected:
    """The expected state re-derived by replaying the parent's reference in a new initial state."""
    spec = parent.verifier
    if not isinstance(spec, EnvironmentOutcome) or parent.environment is None:
        return Rejected("task has no environment outcome to re-derive")
    turns = [parent.reference_solution] if isinstance(parent.reference_solution, str) else parent.reference_solution
    expected = replay_expected_state(turns, environment, list(spec.expected_state), baseline=parent.environment)
    if isinstance(expected, Rejected):
        return expected
    return GroundTruth(
        spec.model_copy(update={"expected_state": expected}), parent.reference_solution, list(parent.known_bad)
    )
