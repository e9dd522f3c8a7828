"""Stateful simulated tool environments for multi-turn function-calling tasks.

Three environments (a file system, a calendar, a bank), each with tool schemas in the usual JSON form.
Tool calls are parsed from the common output formats (`<tool_call>{...}</tool_call>` tags, fenced or bare
JSON objects/arrays with `name` and `arguments`). Each call is executed against the state and its result
is what the model would see as the next (tool) turn. The reward comes from the final state and the
required calls. Tool calls are data, validated against the schema; no model output is executed as code,
and the tools themselves run in the tool sandbox (`tool_sandbox.py`), never in the verifier's process.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from rlvr_assets.core.domains.function_calling.spec import ToolCall
from rlvr_assets.core.kernel.markers import fenced_blocks, tagged
from rlvr_assets.core.kernel.verdict import Verdict

if TYPE_CHECKING:
    from rlvr_assets.core.domains.function_calling.spec import EnvironmentOutcome
    from rlvr_assets.core.domains.function_calling.tool_sandbox import ToolSandbox


class Environment(BaseModel):
    """A simulated, stateful tool environment (one of ENVIRONMENTS below) and its starting state."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: Literal["filesystem", "calendar", "bank"]
    initial_state: dict[str, Any] = Field(default_factory=dict)


TOOL_PROTOCOL = (
    'You can call tools. To call one, reply with <tool_call>{{"name": ..., "arguments": {{...}}}}</tool_call> '
    "(one tag per call). Each result comes back as a tool message. Tools:\n{tools}"
)


class ToolError(Exception):
    """A call the environment refuses; its message is returned to the model as the tool result."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, str]  # name -> JSON type ("string", "integer", "number")
    required: tuple[str, ...]
    run: Callable[[dict[str, Any], dict[str, Any]], Any] = field(repr=False)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": {
                    "type": "object",
                    "properties": {k: {"type": t} for k, t in self.parameters.items()},
                    "required": list(self.required),
                },
            },
        }


_JSON_TYPES = {"string": str, "integer": int, "number": (int, float)}


def _validate(tool: Tool, arguments: dict[str, Any]) -> None:
    unknown = set(arguments) - set(tool.parameters)
    if unknown:
        raise ToolError(f"unknown argument(s) {sorted(unknown)} for {tool.name}")
    for name in tool.required:
        if name not in arguments:
            raise ToolError(f"missing argument {name!r} for {tool.name}")
    for name, value in arguments.items():
        expected = _JSON_TYPES[tool.parameters[name]]
        if isinstance(value, bool) or not isinstance(value, expected):
            raise ToolError(f"argument {name!r} of {tool.name} must be {tool.parameters[name]}")


# --- file system: {"files": {path: content}} -------------------------------------------------------
def _fs_files(state: dict[str, Any]) -> dict[str, str]:
    return state.setdefault("files", {})


def _fs_list(state: dict[str, Any], a: dict[str, Any]) -> list[str]:
    prefix = a.get("directory", "").strip("/")
    return sorted(p for p in _fs_files(state) if not prefix or p.startswith(prefix + "/"))


def _fs_read(state: dict[str, Any], a: dict[str, Any]) -> str:
    files = _fs_files(state)
    if a["path"] not in files:
        raise ToolError(f"no such file: {a['path']}")
    return files[a["path"]]


def _fs_write(state: dict[str, Any], a: dict[str, Any]) -> str:
    _fs_files(state)[a["path"]] = a["content"]
    return "ok"


def _fs_move(state: dict[str, Any], a: dict[str, Any]) -> str:
    files = _fs_files(state)
    if a["source"] not in files:
        raise ToolError(f"no such file: {a['source']}")
    if a["destination"] in files:
        raise ToolError(f"destination exists: {a['destination']}")
    files[a["destination"]] = files.pop(a["source"])
    return "ok"


def _fs_delete(state: dict[str, Any], a: dict[str, Any]) -> str:
    if _fs_files(state).pop(a["path"], None) is None:
        raise ToolError(f"no such file: {a['path']}")
    return "ok"


# --- calendar: {"events": [{"id", "title", "day", "start", "end"}]} -------------------------------------
def _events(state: dict[str, Any]) -> list[dict[str, Any]]:
    return state.setdefault("events", [])


def _check_slot(state: dict[str, Any], day: str, start: int, end: int, ignore: str | None = None) -> None:
    if not 0 <= start < end <= 24:
        raise ToolError("start and end must be hours with 0 <= start < end <= 24")
    for e in _events(state):
        if e["id"] != ignore and e["day"] == day and start < e["end"] and e["start"] < end:
            raise ToolError(f"overlaps with {e['title']} ({e['start']}-{e['end']})")


def _cal_list(state: dict[str, Any], a: dict[str, Any]) -> list[dict[str, Any]]:
    return [e for e in _events(state) if e["day"] == a["day"]]


def _cal_create(state: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    _check_slot(state, a["day"], a["start"], a["end"])
    event = {
        "id": f"e{len(_events(state)) + 1}",
        "title": a["title"],
        "day": a["day"],
        "start": a["start"],
        "end": a["end"],
    }
    _events(state).append(event)
    return event


def _cal_find(state: dict[str, Any], event_id: str) -> dict[str, Any]:
    for e in _events(state):
        if e["id"] == event_id:
            return e
    raise ToolError(f"no such event: {event_id}")


def _cal_cancel(state: dict[str, Any], a: dict[str, Any]) -> str:
    _events(state).remove(_cal_find(state, a["event_id"]))
    return "ok"


def _cal_move(state: dict[str, Any], a: dict[str, Any]) -> dict[str, Any]:
    event = _cal_find(state, a["event_id"])
    _check_slot(state, a["day"], a["start"], a["end"], ignore=event["id"])
    event.update(day=a["day"], start=a["start"], end=a["end"])
    return event


# --- bank: {"accounts": {name: balance_cents}, "log": [...]} --------------------------------------------
def _accounts(state: dict[str, Any]) -> dict[str, int]:
    return state.setdefault("accounts", {})


def _account(state: dict[str, Any], name: str) -> int:
    if name not in _accounts(state):
        raise ToolError(f"no such account: {name}")
    return _accounts(state)[name]


def _bank_balance(state: dict[str, Any], a: dict[str, Any]) -> int:
    return _account(state, a["account"])


def _bank_transfer(state: dict[str, Any], a: dict[str, Any]) -> str:
    amount = a["amount"]
    if amount <= 0:
        raise ToolError("amount must be positive")
    if _account(state, a["from_account"]) < amount:
        raise ToolError("insufficient funds")
    _account(state, a["to_account"])
    _accounts(state)[a["from_account"]] -= amount
    _accounts(state)[a["to_account"]] += amount
    state.setdefault("log", []).append([a["from_account"], a["to_account"], amount])
    return "ok"


def _bank_deposit(state: dict[str, Any], a: dict[str, Any]) -> str:
    if a["amount"] <= 0:
        raise ToolError("amount must be positive")
    _account(state, a["account"])
    _accounts(state)[a["account"]] += a["amount"]
    return "ok"


ENVIRONMENTS: dict[str, dict[str, Tool]] = {
    "filesystem": {
        t.name: t
        for t in (
            Tool("list_files", "List file paths, optionally under a directory.", {"directory": "string"}, (), _fs_list),
            Tool("read_file", "Read a file's content.", {"path": "string"}, ("path",), _fs_read),
            Tool(
                "write_file",
                "Create or overwrite a file.",
                {"path": "string", "content": "string"},
                ("path", "content"),
                _fs_write,
            ),
            Tool(
                "move_file",
                "Move or rename a file.",
                {"source": "string", "destination": "string"},
                ("source", "destination"),
                _fs_move,
            ),
            Tool("delete_file", "Delete a file.", {"path": "string"}, ("path",), _fs_delete),
        )
    },
    "calendar": {
        t.name: t
        for t in (
            Tool("list_events", "List the events on a day.", {"day": "string"}, ("day",), _cal_list),
            Tool(
                "create_event",
                "Create an event (hours 0-24); fails on overlap.",
                {"title": "string", "day": "string", "start": "integer", "end": "integer"},
                ("title", "day", "start", "end"),
                _cal_create,
            ),
            Tool("cancel_event", "Cancel an event by id.", {"event_id": "string"}, ("event_id",), _cal_cancel),
            Tool(
                "move_event",
                "Move an event to another day/time; fails on overlap.",
                {"event_id": "string", "day": "string", "start": "integer", "end": "integer"},
                ("event_id", "day", "start", "end"),
                _cal_move,
            ),
        )
    },
    "bank": {
        t.name: t
        for t in (
            Tool("get_balance", "Balance of an account in cents.", {"account": "string"}, ("account",), _bank_balance),
            Tool(
                "transfer",
                "Move cents between accounts; fails on insufficient funds.",
                {"from_account": "string", "to_account": "string", "amount": "integer"},
                ("from_account", "to_account", "amount"),
                _bank_transfer,
            ),
            Tool(
                "deposit",
                "Add cents to an account.",
                {"account": "string", "amount": "integer"},
                ("account", "amount"),
                _bank_deposit,
            ),
        )
    },
}


def tool_schemas(env_name: str) -> list[dict[str, Any]]:
    return [t.schema() for t in ENVIRONMENTS[env_name].values()]


def system_prompt(env_name: str) -> str:
    return TOOL_PROTOCOL.format(tools=json.dumps(tool_schemas(env_name), indent=1))


def _calls_from_json(obj: Any) -> list[ToolCall]:
    items = obj if isinstance(obj, list) else [obj]
    calls = []
    for item in items:
        if isinstance(item, dict) and "function" in item and isinstance(item["function"], dict):
            item = item["function"]
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        arguments = item.get("arguments", item.get("parameters", {}))
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments)
            except (ValueError, RecursionError):
                continue
        if isinstance(arguments, dict):
            calls.append(ToolCall(name=item["name"], arguments=arguments))
    return calls


def parse_tool_calls(text: str) -> list[ToolCall]:
    """Tool calls in one assistant turn: tags first, then fenced JSON, then bare JSON objects/arrays."""
    # linear scans (markers.py): 220 KB of repeated opening tags took 29 s with the old lazy regexes
    chunks = tagged(text, "<tool_call>", "</tool_call>") or fenced_blocks(text, ("json",))
    if not chunks:
        stripped = text.strip()
        chunks = [stripped] if stripped[:1] in "{[" else []
    calls: list[ToolCall] = []
    for chunk in chunks:
        try:
            calls.extend(_calls_from_json(json.loads(chunk)))
        except (ValueError, RecursionError):  # not JSON, an int too long to read, nesting too deep
            continue
    return calls


@dataclass
class Episode:
    """An environment instance being driven by one model's turns.

    The state is plain data kept here; the tool calls run in the tool sandbox (`tool_sandbox.py`), never
    in this process: each step sends the state and the parsed calls and takes the new state back.
    """

    environment: Environment
    sandbox: ToolSandbox | None = field(default=None, repr=False)
    state: dict[str, Any] = field(init=False)
    calls: list[ToolCall] = field(default_factory=list)
    failure: str | None = None  # why the sandbox could not run a step, if it could not

    def __post_init__(self) -> None:
        self.state = copy.deepcopy(self.environment.initial_state)

    def step(self, assistant_turn: str) -> list[str]:
        """Execute the turn's tool calls; returns the tool results (JSON strings) in order."""
        from rlvr_assets.core.domains.function_calling.tool_sandbox import ToolSandboxError, shared_tool_sandbox

        calls = parse_tool_calls(assistant_turn)
        if not calls:
            return []
        self.calls.extend(calls)
        sandbox = self.sandbox or shared_tool_sandbox()
        try:
            self.state, results = sandbox.project_step(
                self.environment.name, self.state, [(c.name, c.arguments) for c in calls]
            )
        except ToolSandboxError as exc:  # the state stays as it was: nothing ran, or nothing came back
            self.failure = self.failure or str(exc)
            return [json.dumps({"error": f"tool sandbox: {exc}"})] * len(calls)
        return results


def _required_calls_made(required: Sequence[ToolCall], made: Sequence[ToolCall]) -> str | None:
    """None when `required` occurs in order within `made` (given arguments must match), else the first missing."""
    position = 0
    for need in required:
        while position < len(made):
            call = made[position]
            position += 1
            if call.name == need.name and all(call.arguments.get(k) == v for k, v in need.arguments.items()):
                break
        else:
            return f"{need.name}({json.dumps(need.arguments)})"
    return None


def check_episode(environment: Environment, spec: EnvironmentOutcome, completion: str | list[str]) -> Verdict:
    """Replay the assistant's turns in a fresh environment and judge the final state and the calls."""
    turns = [completion] if isinstance(completion, str) else list(completion)
    if len(turns) > spec.max_turns:
        return Verdict(0.0, f"{len(turns)} turns exceed the limit of {spec.max_turns}")
    episode = Episode(environment)
    for turn in turns:
        episode.step(turn)
    if not episode.calls:
        return Verdict(0.0, "no tool calls")
    if episode.failure is not None:
        return Verdict(0.0, f"tool sandbox failed: {episode.failure}")
    for key, expected in spec.expected_state.items():
        if episode.state.get(key) != expected:
            return Verdict(0.0, f"final state '{key}' differs from the expected state")
    missing = _required_calls_made(spec.required_calls, episode.calls)
    if missing:
        return Verdict(0.0, f"required call {missing} not made (in order)")
    return Verdict(1.0, f"final state matches after {len(episode.calls)} calls")
