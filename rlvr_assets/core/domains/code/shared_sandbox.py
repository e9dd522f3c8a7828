"""One code sandbox shared by many checks (the gate audit's probes): starting a worker per check costs about
26x more (perf/gate_probes.py) and buys no isolation, since the worker forks a fresh, confined process per
check anyway."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Sequence

from rlvr_assets.core.domains.base import Solution, TaskView
from rlvr_assets.core.domains.code.spec import UnitTests
from rlvr_assets.core.domains.code.verifier import CodeSandbox, check_code
from rlvr_assets.core.kernel.verdict import Verdict

_log = logging.getLogger(__name__)

Verifier = Callable[[TaskView, Solution], Verdict]


def _sandboxed(box: CodeSandbox | None, fallback: Verifier) -> Verifier:
    def check(task: TaskView, completion: Solution) -> Verdict:
        spec = task.verifier
        if box is None or not isinstance(spec, UnitTests):
            return fallback(task, completion)
        text = completion if isinstance(completion, str) else "\n".join(completion)
        try:
            return check_code(text, spec, box)
        except Exception as exc:  # the same last line of defence as `verify`
            _log.warning("code check on %s raised %s; reward 0", task.id, type(exc).__name__, exc_info=True)
            return Verdict(0.0, f"verifier error: {type(exc).__name__} (reward 0)")

    return check


@contextlib.contextmanager
def shared_code_sandbox(tasks: Sequence[TaskView], fallback: Verifier) -> Iterator[Verifier]:
    """A verifier that checks unit-test tasks in one open code sandbox and every other task with `fallback`
    (the generic `verify`, which the domain cannot import); the sandbox closes when the block ends."""
    if any(isinstance(t.verifier, UnitTests) for t in tasks):
        with CodeSandbox() as box:
            yield _sandboxed(box, fallback)
    else:
        yield _sandboxed(None, fallback)
