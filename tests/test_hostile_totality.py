"""Every verifier is total: any completion gets a float reward in [0, 1], a bounded reason, in bounded time."""

import json
import logging
import random
import time
from pathlib import Path

import pytest

from rlvr_assets.cli import main
from rlvr_assets.core.domains.code.spec import TestCase, UnitTests
from rlvr_assets.core.domains.code.verifier import check_code
from rlvr_assets.core.domains.function_calling.environments import parse_tool_calls
from rlvr_assets.core.domains.instruction_following.spec import Constraint, Constraints
from rlvr_assets.core.domains.reasoning.answers import check_expression_answer, check_json_answer
from rlvr_assets.core.domains.reasoning.spec import NumericAnswer
from rlvr_assets.core.evaluation.benchmarks import bfcl_items, bfcl_multi_turn_items, humaneval_items, ifbench_items
from rlvr_assets.core.tasks.model import Task
from rlvr_assets.core.tasks.seeds import load_task_file
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]
SECONDS_PER_VERDICT = 60  # generous: the bound is what matters (sandbox walls are 3-30 s), not the speed


def _seed(domain: str, name: str | None = None) -> Task:
    tasks = load_task_file(ROOT / "seeds" / f"{domain}.jsonl")
    return next(t for t in tasks if name is None or t.name == name)


def _verifiers() -> dict[str, Task]:
    """One task per verifier kind: reasoning (number, choice, expression, JSON), code (cases and HumanEval
    tests), instruction following (project and IFBench constraints), function calling (project environment,
    BFCL single-turn and multi-turn)."""
    number = _seed("reasoning")
    return {
        "number": number,
        "choice": _seed("reasoning", "largest-fraction"),
        "expression": _seed("reasoning", "expand-product"),
        "json": number.model_copy(
            update={"verifier": NumericAnswer(answer='{"a": [1, 2.5], "ok": true}', kind="json")}
        ),
        "code_cases": _seed("code"),
        "code_tests": humaneval_items()[0],
        "instruction_following": _seed("instruction_following"),
        "ifbench": ifbench_items()[0],
        "environment": _seed("function_calling", "pay-rent"),
        "bfcl_single": bfcl_items("simple_python")()[0],
        "bfcl_multi_turn": bfcl_multi_turn_items()[0],
    }


DEEP = "[" * 100_000
HUGE = "9" * 5_000


def _tool_call(arguments: str) -> str:
    return '<tool_call>{"name": "transfer", "arguments": ' + arguments + "}</tool_call>"


HOSTILE: dict[str, str | bytes] = {
    # huge numbers
    "huge int": f"Answer: {HUGE}",
    "400 zeros": "Answer: 1" + "0" * 400,
    "huge boxed": "\\boxed{" + "1" * 100_000 + "}",
    "huge exponent": "Answer: 1e999999999",
    "huge tool argument": _tool_call('{"amount": ' + HUGE + "}"),
    "huge code result": "```python\nimport sys\nsys.set_int_max_str_digits(0)\ndef f(*a, **k):\n    return 10**5000\n```",
    "huge bfcl episode": json.dumps([[[f"cd(folder={HUGE})"]]]),
    # deep nesting
    "deep list": DEEP,
    "deep answer": "Answer: " + DEEP + "]" * 100_000,
    "deep tool argument": _tool_call('{"amount": ' + DEEP + "}"),
    "deep parentheses": "Answer: " + "(" * 5_000 + "x" + ")" * 5_000,
    "deep json object": '{"a": ' * 50_000,
    "deep code result": "```python\ndef f(*a, **k):\n    x = []\n    for _ in range(200000):\n        x = [x]\n    return x\n```",
    # invalid UTF-8
    "invalid utf-8": b"Answer: 7 \xff\xfe\xc3\x28 done",
    "only invalid bytes": b"\x80" * 1_000,
    # very long text
    "one megabyte": "a" * 1_000_000,
    "long repeated answers": "Answer: 7 " * 100_000,
    "long tool calls": _tool_call('{"amount": 1}') * 20_000,
    # costly expressions
    "costly power 30": "Answer: (exp(x)+exp(y)+sin(z))**30",
    "costly power 40": "Answer: (exp(x)+exp(y)+sin(z))**40",
    "costly but equal": "Answer: (exp(x)+exp(y)+sin(z))**30*(sin(z)**2+cos(z)**2)",
    "tower": "Answer: 9**9**9",
}

FRAMES = ("{}", "Answer: {}", "\\boxed{{{}}}", "```python\n{}\n```", "<tool_call>{}</tool_call>", "{}\n\n\n")
PAYLOADS = ("9" * 4_400, "[" * 3_000, "(" * 3_000, "\udcff", "x**64**64", "1e308*10", "{" * 2_000, "\x00" * 100)


def _random_hostile(rng: random.Random, count: int) -> list[str]:
    """Random compositions of answer frames and hostile payloads (a property test without a library)."""
    out = []
    for _ in range(count):
        parts = [rng.choice(FRAMES).format(rng.choice(PAYLOADS) * rng.randint(1, 3)) for _ in range(rng.randint(1, 3))]
        out.append(rng.choice(("", "\n", " or ")).join(parts))
    return out


def _assert_total(task: Task, completion: str | bytes | list[str]) -> None:
    start = time.monotonic()
    verdict = verify(task, completion)
    elapsed = time.monotonic() - start
    assert type(verdict.reward) is float and 0.0 <= verdict.reward <= 1.0
    assert isinstance(verdict.reason, str) and 0 < len(verdict.reason) <= 300
    assert elapsed < SECONDS_PER_VERDICT, f"{task.name}: {elapsed:.0f}s"


@pytest.fixture(scope="module")
def verifiers() -> dict[str, Task]:
    return _verifiers()


@pytest.mark.parametrize("kind", sorted(HOSTILE))
def test_every_verifier_returns_a_bounded_verdict_for_each_hostile_completion(kind: str, verifiers) -> None:
    for task in verifiers.values():
        _assert_total(task, HOSTILE[kind])
        if task.domain == "function_calling" and not isinstance(HOSTILE[kind], bytes):
            _assert_total(task, [str(HOSTILE[kind])] * 3)  # as the assistant's turns of an episode


def test_every_verifier_returns_a_bounded_verdict_for_random_hostile_compositions(verifiers) -> None:
    rng = random.Random(14)
    for task in verifiers.values():
        for completion in _random_hostile(rng, 6):
            _assert_total(task, completion)


# --- the causes the issue found, one by one ---------------------------------------------------------------
def _cases_spec() -> UnitTests:
    return UnitTests(entry_point="f", cases=[TestCase(args=[1], expected=2)])


def test_a_candidate_returning_a_5000_digit_int_is_a_wrong_answer_not_a_crash() -> None:
    verdict = check_code(HOSTILE["huge code result"], _cases_spec())  # type: ignore[arg-type]
    assert verdict.reward == 0.0 and "too long" in verdict.reason


def test_a_candidate_writing_200000_brackets_to_its_pipe_is_a_wrong_answer_not_a_crash() -> None:
    code = (
        "```python\nimport os\ndef f(*a, **k):\n"
        "    for fd in range(3, 64):\n"
        "        try:\n            os.write(fd, b'[' * 200000 + b'\\n')\n"
        "        except OSError:\n            pass\n"
        "    os._exit(0)\n```"
    )
    verdict = check_code(code, _cases_spec())
    assert verdict.reward == 0.0 and "malformed" in verdict.reason


def test_the_tool_call_parser_survives_huge_ints_and_deep_lists() -> None:
    assert parse_tool_calls(_tool_call('{"amount": ' + HUGE + "}")) == []
    assert parse_tool_calls(_tool_call('{"amount": ' + DEEP + "}")) == []
    assert parse_tool_calls('{"name": "f", "arguments": "' + DEEP + '"}') == []
    ok = parse_tool_calls(_tool_call('{"from_account": "a", "to_account": "b", "amount": 5}'))
    assert [c.name for c in ok] == ["transfer"]  # and still reads the ordinary ones


def test_a_json_answer_beyond_float_range_is_wrong_not_a_crash() -> None:
    assert check_json_answer("Answer: 1" + "0" * 400, "1.5").reward == 0.0
    assert check_json_answer("Answer: 1" + "0" * 400, "1" + "0" * 400).reward == 1.0  # exact ints still match
    assert check_json_answer("Answer: [1e400]", "[1.0]").reward == 0.0


def test_an_invalid_utf8_completion_file_is_decoded_with_replacement_and_says_so(tmp_path: Path, capsys) -> None:
    for domain in ("instruction_following", "function_calling"):
        task = tmp_path / f"{domain}.json"
        task.write_text(_seed(domain).model_dump_json())
        completion = tmp_path / f"{domain}.txt"
        completion.write_bytes(b"Hello \xff\xfe world \xc3\x28")
        assert main(["verify", str(task), str(completion), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["reward"] == 0.0 and "not valid UTF-8" in out["reason"]


def test_an_unexpected_verifier_exception_is_reward_zero_naming_its_type_and_logged(tmp_path: Path, caplog) -> None:
    """A task file can carry constraint arguments a checker does not expect: the guard catches what it raises."""
    broken = _seed("instruction_following").model_copy(
        update={"verifier": Constraints(constraints=[Constraint(id="startend:end_checker", kwargs={"end_phrase": 5})])}
    )
    with caplog.at_level(logging.WARNING, logger="rlvr_assets.core.tasks.verifiers"):
        verdict = verify(broken, "Hello world.")
    assert verdict.reward == 0.0 and "AttributeError" in verdict.reason
    assert any("AttributeError" in r.getMessage() for r in caplog.records)


def test_a_costly_expression_is_cut_off_with_a_reason() -> None:
    start = time.monotonic()
    verdict = check_expression_answer(
        "Answer: (exp(x)+exp(y)+sin(z))**30*(sin(z)**2+cos(z)**2)", "(exp(x)+exp(y)+sin(z))**30"
    )
    assert verdict.reward == 0.0 and verdict.reason == "expression too costly to compare"
    assert time.monotonic() - start < SECONDS_PER_VERDICT
    for power in (30, 40):  # the answers: wrong, and told apart without simplifying
        wrong = check_expression_answer(f"Answer: (exp(x)+exp(y)+sin(z))**{power}", "x**2 + 2*x - 3")
        assert wrong.reward == 0.0 and "wrong answer" in wrong.reason
    assert check_expression_answer("Answer: x^2 + 3x - x - 3", "x**2 + 2*x - 3").reward == 1.0  # still compares


def test_reasons_are_bounded() -> None:
    verdict = verify(_seed("reasoning"), "Answer: " + "7" * 100_000)
    assert len(verdict.reason) <= 300 and verdict.reason.endswith("…")
    assert verdict.parsed is None or len(verdict.parsed) <= 300
