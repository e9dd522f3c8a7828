"""BFCL v4 (from the installed `bfcl-eval` package): single-turn categories scored by BFCL's AST rules, and
multi-turn episodes executed and checked by BFCL's own classes in the tool sandbox (`tool_sandbox.py`).

`bfcl_eval`'s own AST checker module imports every model handler (openai, anthropic, ...), which the
project does not install, so its matching rules are re-implemented here: the function name must match,
required parameters must be present, every given parameter must be one the function declares, and each
value must be among the ground truth's possible values after BFCL's string standardisation (spaces and
",./-_*^" removed, lower-cased, quotes unified); an omitted optional parameter needs "" among them.
"""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from rlvr_assets.core.answers import Verdict
from rlvr_assets.core.environments import parse_tool_calls
from rlvr_assets.core.tool_sandbox import ToolSandbox, ToolSandboxError, ToolSession, shared_tool_sandbox

_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")
_TYPES = {
    "integer": int,
    "float": float,
    "number": float,
    "boolean": bool,
    "string": str,
    "array": list,
    "tuple": list,
    "dict": dict,
    "object": dict,
    "any": object,
}


def standardize(value: str) -> str:
    return _STANDARDIZE.sub("", value).lower().replace("'", '"')


def _value_matches(value: Any, possible: list[Any], declared: str) -> bool:
    if declared in ("float", "number") and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
        possible = [float(p) if isinstance(p, int) and not isinstance(p, bool) else p for p in possible]
    expected_type = _TYPES.get(declared, object)
    if expected_type is not object and not isinstance(value, expected_type):
        return False
    if isinstance(value, str):
        return standardize(value) in {standardize(p) for p in possible if isinstance(p, str)}
    if isinstance(value, list):
        return any(
            isinstance(p, list)
            and len(p) == len(value)
            and all(
                (standardize(a) == standardize(b)) if isinstance(a, str) and isinstance(b, str) else a == b
                for a, b in zip(value, p, strict=True)
            )
            for p in possible
        )
    return value in possible


def check_call(
    call_name: str, arguments: dict[str, Any], function: dict[str, Any], truth: dict[str, list[Any]]
) -> str | None:
    """None when the call matches, else why not."""
    if call_name != function["name"]:
        return f"called {call_name}, expected {function['name']}"
    properties = function["parameters"].get("properties", {})
    for name in function["parameters"].get("required", []):
        if name not in arguments:
            return f"missing required parameter {name!r}"
    for name, value in arguments.items():
        if name not in properties:
            return f"unexpected parameter {name!r}"
        if name not in truth:
            return f"parameter {name!r} should not be given"
        if not _value_matches(value, truth[name], properties[name].get("type", "any")):
            return f"wrong value for {name!r}: {json.dumps(value)[:60]}"
    for name, possible in truth.items():
        if name not in arguments and "" not in possible and None not in possible:
            return f"missing parameter {name!r}"
    return None


def check_bfcl_single(completion: str, functions: list[dict[str, Any]], ground_truth: list[dict[str, Any]]) -> Verdict:
    """Exactly the ground truth's calls (in any order for parallel categories), each matching by the AST rules."""
    calls = parse_tool_calls(completion)
    if not calls:
        return Verdict(0.0, "no function call")
    if len(calls) != len(ground_truth):
        return Verdict(0.0, f"{len(calls)} calls, expected {len(ground_truth)}")
    by_name = {f["name"]: f for f in functions}
    unmatched = list(ground_truth)
    for call in calls:
        problems = []
        for truth in unmatched:
            name, params = next(iter(truth.items()))
            function = by_name.get(name)
            problem = (
                "unknown function" if function is None else check_call(call.name, call.arguments, function, params)
            )
            if problem is None:
                unmatched.remove(truth)
                break
            problems.append(problem)
        else:
            return Verdict(0.0, problems[0] if problems else "call matches nothing")
    return Verdict(1.0, "all calls match the ground truth")


# --- multi-turn: BFCL's own executable API classes and state-based checker, run inside the tool sandbox ---
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
DOC_FILES = {  # BFCL class -> its function documentation (multi_turn_func_doc/<name>.json)
    "GorillaFileSystem": "gorilla_file_system",
    "MathAPI": "math_api",
    "MessageAPI": "message_api",
    "TwitterAPI": "posting_api",
    "TicketAPI": "ticket_api",
    "TradingBot": "trading_bot",
    "TravelAPI": "travel_booking",
    "VehicleControlAPI": "vehicle_control",
}


@functools.cache
def _class_functions(class_name: str) -> frozenset[str]:
    from rlvr_assets.core.benchmarks import package_file

    if class_name not in DOC_FILES:
        return frozenset()
    doc = package_file("bfcl-eval", f"multi_turn_func_doc/{DOC_FILES[class_name]}.json")
    return frozenset(json.loads(line)["name"] for line in doc.read_text().splitlines() if line.strip())


def declared_functions(entry: dict[str, Any]) -> frozenset[str]:
    """The functions a BFCL multi-turn task offers: its classes' documented ones minus its excluded ones."""
    names = frozenset().union(*(_class_functions(c) for c in entry.get("involved_classes", [])))
    return names - frozenset(entry.get("excluded_function", []))


def to_call_string(name: str, arguments: dict[str, Any]) -> str | None:
    """BFCL's call syntax, built only from an identifier and literal values (None: not a valid call)."""
    if not _IDENTIFIER.match(name) or not all(_IDENTIFIER.match(k) for k in arguments):
        return None
    try:
        return f"{name}({', '.join(f'{k}={v!r}' for k, v in arguments.items())})"
    except (ValueError, RecursionError):  # an int too long to print, a list nested too deep
        return None


def decode_turn(text: str) -> list[str]:
    calls = [to_call_string(c.name, c.arguments) for c in parse_tool_calls(text)]
    return [c for c in calls if c is not None]


def call_problem(call: str, declared: frozenset[str]) -> str | None:
    """Why a call string may not run (None: it may): it must be name(literal, ..., k=literal) and name one of
    the task's declared functions. Python builtins (open, exec, __import__, ...) never reach BFCL's eval."""
    name = call_name(call)
    if name is None:
        return "a call that is not a plain call with literal arguments"
    if name not in declared:
        return f"a call to {name[:60]!r}, which is not one of the task's functions"
    return None


class BFCLEpisode:
    """One BFCL multi-turn episode: its API instances live in a confined session of the tool sandbox, and
    only calls of the task's declared functions with literal arguments are sent there."""

    def __init__(self, entry: dict[str, Any], sandbox: ToolSandbox | None = None) -> None:
        self.entry = entry
        self.declared = declared_functions(entry)
        self.sandbox = sandbox or shared_tool_sandbox()
        self._session: ToolSession | None = None

    def execute(self, calls: list[str]) -> list[str]:
        """The results of `calls`, in order; a refused call's result says why and it never runs."""
        problems = [call_problem(c, self.declared) for c in calls]
        allowed = [c for c, p in zip(calls, problems, strict=True) if p is None]
        ran: list[str] = []
        if allowed:
            try:
                if self._session is None:
                    self._session = self.sandbox.open("bfcl", {"entry": self.entry})
                reply = self._session.request({"op": "execute", "calls": allowed})
                ran = [str(r) for r in reply.get("results", [])]
            except ToolSandboxError as exc:
                ran = [f"Error during execution: {exc}"] * len(allowed)
            ran += ["Error during execution: no result"] * (len(allowed) - len(ran))
        results = iter(ran)
        return [f"Error during execution: refused {p}" if p else next(results) for p in problems]

    def close(self) -> None:
        if self._session is not None:
            self._session.close()
            self._session = None


def check_bfcl_multi_turn(
    entry: dict[str, Any], ground_truth: list[list[str]], completion: str, sandbox: ToolSandbox | None = None
) -> Verdict:
    """BFCL's multi_turn_checker on the decoded calls (JSON: turns -> steps -> call strings), in the sandbox."""
    try:
        decoded = json.loads(completion)
    except (ValueError, RecursionError):
        return Verdict(0.0, "completion is not a decoded multi-turn episode")
    if not (
        isinstance(decoded, list)
        and len(decoded) == len(ground_truth)
        and all(isinstance(t, list) and all(isinstance(s, list) for s in t) for t in decoded)
    ):
        return Verdict(0.0, f"episode has the wrong shape (expected {len(ground_truth)} turns of steps)")
    declared = declared_functions(entry)
    for call in (c for t in decoded for s in t for c in s):
        problem = call_problem(call, declared) if isinstance(call, str) else "a call that is not a string"
        if problem is not None:
            return Verdict(0.0, f"episode contains {problem}")
    try:
        with (sandbox or shared_tool_sandbox()).open("bfcl", {"entry": entry}) as session:
            out = session.request({"op": "check", "decoded": decoded, "ground_truth": ground_truth})
    except ToolSandboxError as exc:
        return Verdict(0.0, f"BFCL check failed in the sandbox: {exc}")
    if out.get("valid") is True:
        return Verdict(1.0, "state and responses match BFCL's ground truth")
    return Verdict(0.0, str(out.get("reason") or "no verdict"))


def call_name(call: str) -> str | None:
    """The function a call string names when it is name(literal, ..., k=literal), else None."""
    import ast

    if len(call) > 100_000:
        return None
    try:
        node = ast.parse(call, mode="eval").body
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            return None
        for arg in node.args:
            ast.literal_eval(arg)
        for keyword in node.keywords:
            if keyword.arg is None:
                return None
            ast.literal_eval(keyword.value)
    except (SyntaxError, ValueError, TypeError, RecursionError, MemoryError):
        return None
    return node.func.id
