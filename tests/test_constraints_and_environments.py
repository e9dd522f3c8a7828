import json

import pytest

from rlvr_assets.core.domains.function_calling.environments import Environment, Episode, check_episode, parse_tool_calls
from rlvr_assets.core.domains.function_calling.spec import EnvironmentOutcome
from rlvr_assets.core.domains.instruction_following.constraints import (
    check_constraints,
    check_one,
    known_constraint_ids,
)
from rlvr_assets.core.domains.instruction_following.spec import Constraint, Constraints


def test_constraints_all_must_hold_and_unknown_ids_fail_closed() -> None:
    spec = Constraints(
        constraints=[
            {"id": "change_case:english_lowercase"},
            {"id": "length_constraints:number_words", "kwargs": {"num_words": 20, "relation": "less than"}},
        ]
    )
    assert check_constraints("the weather is calm and all of us are quite happy here today", spec).reward == 1.0
    failed = check_constraints("The weather is calm and all of us are quite happy here today", spec)
    assert failed.reward == 0.0 and "english_lowercase" in failed.reason
    unknown = check_constraints("anything", Constraints(constraints=[{"id": "format:made_up"}]))
    assert unknown.reward == 0.0 and "unknown constraint id" in unknown.reason
    bad_args = check_constraints("x", Constraints(constraints=[{"id": "keywords:existence", "kwargs": {"k": 1}}]))
    assert bad_args.reward == 0.0 and "rejects its arguments" in bad_args.reason


def test_sentence_counting_needs_no_nltk_data() -> None:
    spec = Constraints(
        constraints=[
            {"id": "length_constraints:number_sentences", "kwargs": {"num_sentences": 3, "relation": "at least"}}
        ]
    )
    assert check_constraints("One. Two! Three?", spec).reward == 1.0
    assert check_constraints("One. Two.", spec).reward == 0.0
    assert "keywords:existence" in known_constraint_ids()


@pytest.mark.parametrize(
    "text",
    [
        '<tool_call>{"name": "deposit", "arguments": {"account": "a", "amount": 5}}</tool_call>',
        '```json\n{"name": "deposit", "arguments": {"account": "a", "amount": 5}}\n```',
        '[{"name": "deposit", "arguments": "{\\"account\\": \\"a\\", \\"amount\\": 5}"}]',
        '{"function": {"name": "deposit", "arguments": {"account": "a", "amount": 5}}}',
    ],
)
def test_tool_calls_parse_from_common_formats(text: str) -> None:
    calls = parse_tool_calls(text)
    assert [(c.name, c.arguments) for c in calls] == [("deposit", {"account": "a", "amount": 5})]


def test_environment_executes_calls_and_returns_results_as_the_next_turn() -> None:
    env = Environment(name="bank", initial_state={"accounts": {"a": 100, "b": 0}})
    episode = Episode(env)
    results = episode.step(
        '<tool_call>{"name": "transfer", "arguments": '
        '{"from_account": "a", "to_account": "b", "amount": 500}}</tool_call>'
    )
    assert json.loads(results[0]) == {"error": "insufficient funds"}
    results = episode.step(
        '<tool_call>{"name": "transfer", "arguments": '
        '{"from_account": "a", "to_account": "b", "amount": 60}}</tool_call>'
    )
    assert json.loads(results[0]) == {"result": "ok"}
    assert episode.state["accounts"] == {"a": 40, "b": 60}
    bad_type = episode.step('<tool_call>{"name": "deposit", "arguments": {"account": "a", "amount": "9"}}</tool_call>')
    assert "must be integer" in json.loads(bad_type[0])["error"]
    assert env.initial_state["accounts"] == {"a": 100, "b": 0}  # the task's state is never mutated


def test_reward_from_final_state_and_required_calls_in_order() -> None:
    env = Environment(name="filesystem", initial_state={"files": {"a.txt": "x"}})
    spec = EnvironmentOutcome(
        expected_state={"files": {"b.txt": "x"}},
        required_calls=[{"name": "read_file", "arguments": {"path": "a.txt"}}, {"name": "move_file"}],
    )
    read = '<tool_call>{"name": "read_file", "arguments": {"path": "a.txt"}}</tool_call>'
    move = '<tool_call>{"name": "move_file", "arguments": {"source": "a.txt", "destination": "b.txt"}}</tool_call>'
    assert check_episode(env, spec, [read, move]).reward == 1.0
    out_of_order = check_episode(env, spec, [move, read])
    assert out_of_order.reward == 0.0 and "not made" in out_of_order.reason
    assert check_episode(env, spec, ["I moved it for you."]).reward == 0.0
    assert check_episode(env, spec, [read]).reward == 0.0


def test_ifbench_paragraph_last_first_fails_a_punctuation_only_separator_as_ifbench_does() -> None:
    constraint = Constraint(id="words:paragraph_last_first")
    assert check_one(constraint, "Rivers run down to rivers\n\nStones sit near stones", registry="ifbench")
    assert not check_one(constraint, "Rivers run down to rivers\n***\nStones sit near stones", registry="ifbench")
    assert not check_one(constraint, "Rivers run down to the sea\n\nStones sit near stones", registry="ifbench")
