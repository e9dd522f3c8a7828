"""Distractors for function-calling tasks: the parent's environment plus entities the task must leave alone
(the `add_distractors` operator asks the domain for them)."""

from __future__ import annotations

import json
import random

from rlvr_assets.core.domains.function_calling.environments import Environment

_DISTRACTOR_WORDS = ["budget", "invoice", "recipe", "holiday", "minutes", "ideas", "contacts", "poem"]
_DISTRACTOR_TITLES = ["yoga", "book club", "call with Ana", "plumber", "piano lesson", "car service"]
_DAYS = ["mon", "tue", "wed", "thu", "fri"]


def add_distractors(env: Environment, rng: random.Random) -> Environment:
    """A copy of `env` whose initial state has one or two unrelated files, events or accounts more."""
    state = json.loads(json.dumps(env.initial_state))
    if env.name == "filesystem":
        for _ in range(rng.randint(1, 2)):
            word = rng.choice(_DISTRACTOR_WORDS)
            state.setdefault("files", {})[f"misc/{word}-{rng.randint(1, 99)}.txt"] = f"{word} {rng.randint(1, 999)}"
    elif env.name == "calendar":
        events = state.setdefault("events", [])
        for _ in range(rng.randint(1, 2)):
            start = rng.randint(6, 20)
            events.append(
                {
                    "id": f"x{len(events) + 1}",
                    "title": rng.choice(_DISTRACTOR_TITLES),
                    "day": rng.choice(_DAYS),
                    "start": start,
                    "end": start + 1,
                }
            )
    else:
        state.setdefault("accounts", {})[f"{rng.choice(_DISTRACTOR_WORDS)}-fund"] = rng.randint(1, 500) * 100
    return env.model_copy(update={"initial_state": state})
