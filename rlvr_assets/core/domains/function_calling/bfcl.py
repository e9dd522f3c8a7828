"""BFCL v4 (from the installed `bfcl-eval` package): single-turn categories scored by BFCL's AST rules, and
multi-turn episodes executed and checked by BFCL's own classes in the tool sandbox (`tool_sandbox.py`).

`bfcl_eval`'s own AST checker module imports every model handler (openai, anthropic, ...), which the
project does not install, so its rules are re-implemented here and held to it by a conformance test that
runs BFCL's `ast_checker` itself (tests/test_conformance.py). The rules, as BFCL applies them to Python:
- the function name must match, required parameters must be present, and every given parameter must be one
  the function declares and the possible answer lists; an omitted one needs "" among its options;
- types are exact (`type(v) is int`: a boolean is not an integer); an integer is accepted for a `float`
  parameter at the top level only; array and tuple items are type-checked one level deep;
- a value whose type is that of the answer's first non-"" option is a "variable" and is compared as it
  is: so an explicit null passes where the options are ["", None];
- strings (also inside lists and dicts) compare after BFCL's standardisation (spaces and ",./-_*^"
  removed, lower-cased, single quotes made double); a `dict` parameter's option is itself a dict of option
  lists, matched key by key (BFCL's `dict_checker`), and a list of dicts is matched dict by dict.
Where BFCL's checker would raise on a malformed call (an item of a list of dicts that is not a dict), the
call fails here instead.
"""

from __future__ import annotations

import functools
import json
import re
import weakref
from typing import Any

from rlvr_assets.core.domains.function_calling.environments import parse_tool_calls
from rlvr_assets.core.domains.function_calling.tool_sandbox import (
    ToolSandbox,
    ToolSandboxError,
    ToolSession,
    shared_tool_sandbox,
)
from rlvr_assets.core.kernel.verdict import Verdict

_STANDARDIZE = re.compile(r"[ \,\.\/\-\_\*\^]")
# BFCL's Python type mapping ("any" is checked as a string there too); other declared types are not scored.
_PYTHON_TYPES: dict[str, type] = {
    "string": str,
    "integer": int,
    "float": float,
    "boolean": bool,
    "array": list,
    "tuple": list,
    "dict": dict,
    "any": str,
}
_NESTED = ("array", "tuple")


def standardize(value: str) -> str:
    return _STANDARDIZE.sub("", value).lower().replace("'", '"')


def _standardized(value: Any) -> Any:
    return standardize(value) if type(value) is str else value


def _answer_type(options: list[Any]) -> type | None:
    """The type of the first option that is not the "omitted" marker "" (None: nothing but "")."""
    return next((type(o) for o in options if not (type(o) is str and o == "")), None)


def _type_ok(value: Any, options: list[Any], expected: type, item_type: type | None) -> tuple[bool, bool]:
    """(accepted, is a variable): BFCL's type rule. A value of the declared type passes (list items checked
    one level deep against some list option); a value of the answer's own type passes as a "variable"."""
    answer_type = _answer_type(options)
    variable = answer_type is not None and answer_type is not expected
    if type(value) is expected:
        if item_type is None:
            return True, variable
        for option in options:
            if type(option) is not list or all(_type_ok(item, option, item_type, None)[0] for item in value):
                return True, variable
        return False, variable
    if answer_type is not None and type(value) is answer_type:
        return True, True
    return False, variable


def _dict_ok(value: dict[str, Any], options: list[Any]) -> bool:
    """Some option (a dict of option lists) holds every given key's value, and every key it needs is given."""
    for option in options:
        if not isinstance(option, dict):
            continue  # "" (the parameter may be omitted) or malformed
        given_ok = all(
            key in option
            and isinstance(option[key], list)
            and _standardized(item) in [_standardized(o) for o in option[key]]
            for key, item in value.items()
        )
        if given_ok and all(key in value or "" in allowed for key, allowed in option.items()):
            return True
    return False


def _dict_list_ok(value: list[Any], options: list[Any]) -> bool:
    """Some option is a list of dict options of the same length that matches the value dict by dict."""
    for option in options:
        if not isinstance(option, list | str) or len(option) != len(value):
            continue
        if all(isinstance(v, dict) and _dict_ok(v, [o]) for v, o in zip(value, option, strict=True)):
            return True
    return False


def _list_ok(value: list[Any], options: list[Any]) -> bool:
    """Equal to some option, item by item, strings standardised (an option "" reads as the empty list)."""
    given = [_standardized(v) for v in value]
    return any(given == [_standardized(o) for o in option] for option in options if isinstance(option, list | str))


def _value_problem(name: str, value: Any, options: list[Any], declared: dict[str, Any]) -> str | None:
    """None when `value` is acceptable for parameter `name` by BFCL's rules, else why not."""
    declared_type = declared.get("type")
    expected = _PYTHON_TYPES.get(declared_type) if isinstance(declared_type, str) else None
    if expected is None:
        return f"parameter {name!r} declares type {declared_type!r}, which BFCL does not score"
    item_type = None
    if declared_type in _NESTED:
        items = declared.get("items")
        item_declared = items.get("type") if isinstance(items, dict) else None
        item_type = _PYTHON_TYPES.get(item_declared) if isinstance(item_declared, str) else None
        if item_type is None:
            return f"parameter {name!r} declares item type {item_declared!r}, which BFCL does not score"
    if declared_type == "float" and type(value) is int:
        try:
            value = float(value)  # BFCL's int-to-float allowance, top level only
        except OverflowError:
            return f"wrong value for {name!r}: integer too large for a float"
    accepted, variable = _type_ok(value, options, expected, item_type)
    if not accepted:
        return f"wrong type for {name!r}: expected {declared_type}, got {type(value).__name__}"
    if not variable:
        if expected is dict:
            ok = _dict_ok(value, options)
        elif expected is list and item_type is dict:
            ok = _dict_list_ok(value, options)
        elif expected is str:
            ok = standardize(value) in [standardize(o) for o in options if type(o) is str]
        elif expected is list:
            ok = _list_ok(value, options)
        else:
            ok = value in options
    else:
        ok = value in options
    return None if ok else f"wrong value for {name!r}: {json.dumps(value)[:60]}"


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
    try:
        for name, value in arguments.items():
            if name not in properties or name not in truth:
                return f"unexpected parameter {name!r}"
            problem = _value_problem(name, value, truth[name], properties[name])
            if problem is not None:
                return problem
    except RecursionError:
        return "a parameter value is nested too deeply to compare"
    for name, possible in truth.items():
        if name not in arguments and "" not in possible:
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
    from rlvr_assets.core.kernel.package_files import package_file

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


class BFCLTools:
    """The tools of one BFCL multi-turn episode: BFCL's API instances live in a confined session of the tool
    sandbox for the whole episode, and only calls of the task's declared functions with literal arguments
    are sent there. The session closes with `close()`, or when this object is collected."""

    def __init__(self, entry: dict[str, Any], sandbox: ToolSandbox | None = None) -> None:
        self.entry = entry
        self.declared = declared_functions(entry)
        self.sandbox = sandbox or shared_tool_sandbox()
        self._session: ToolSession | None = None
        self._finalizer: weakref.finalize | None = None

    def execute(self, calls: list[str]) -> list[str]:
        """The results of `calls`, in order; a refused call's result says why and it never runs."""
        problems = [call_problem(c, self.declared) for c in calls]
        allowed = [c for c, p in zip(calls, problems, strict=True) if p is None]
        ran: list[str] = []
        if allowed:
            try:
                if self._session is None:
                    self._session = self.sandbox.open("bfcl", {"entry": self.entry})
                    self._finalizer = weakref.finalize(self, self._session.close)
                reply = self._session.request({"op": "execute", "calls": allowed})
                ran = [str(r) for r in reply.get("results", [])]
            except ToolSandboxError as exc:
                ran = [f"Error during execution: {exc}"] * len(allowed)
            ran += ["Error during execution: no result"] * (len(allowed) - len(ran))
        results = iter(ran)
        return [f"Error during execution: refused {p}" if p else next(results) for p in problems]

    def close(self) -> None:
        if self._finalizer is not None:
            self._finalizer()  # closes the session, once
            self._finalizer = self._session = None


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
