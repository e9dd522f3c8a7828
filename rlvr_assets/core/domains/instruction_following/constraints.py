"""Verifiable instruction-following constraints.

The IFEval checkers shipped in `if-verifiable` are reused as they are (real, tested implementations),
except the two that need NLTK's punkt data at run time (sentence and capital-word counting: nothing may
touch the network after set-up), which are re-implemented here with regular expressions. Every
constraint id must be in the registry: an unknown id, or arguments a checker rejects, is an error that
fails the task, never a pass. IFBench's checkers are if-verifiable's copy of them (without NLTK downloads,
with crash guards; README, "Agreement with the benchmarks' own scorers"); the one rule where that copy
gives a different verdict, `words:paragraph_last_first`, is replaced to follow IFBench.
"""

from __future__ import annotations

import functools
import logging
import re
import string
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from rlvr_assets.core.kernel.verdict import Verdict

if TYPE_CHECKING:
    from rlvr_assets.core.domains.instruction_following.spec import Constraint, Constraints

_log = logging.getLogger(__name__)
_NEEDS_NLTK_DATA = {"length_constraints:number_sentences", "change_case:capital_word_frequency"}
_RELATIONS = ("less than", "at least")


class UnknownConstraintError(ValueError):
    pass


def _compare(count: int, relation: str, target: int) -> bool:
    if relation not in _RELATIONS:
        raise ValueError(f"relation must be one of {_RELATIONS}, got {relation!r}")
    return count < target if relation == "less than" else count >= target


def _number_sentences(text: str, *, num_sentences: int, relation: str) -> bool:
    sentences = [s for s in re.split(r"(?<=[.!?])\s+", text.strip()) if re.search(r"\w", s)]
    return _compare(len(sentences), relation, num_sentences)


def _capital_word_frequency(text: str, *, capital_frequency: int, capital_relation: str) -> bool:
    words = re.findall(r"\b[A-Za-z][A-Za-z'-]*\b", text)
    return _compare(sum(1 for w in words if w.isupper()), capital_relation, capital_frequency)


_OWN: dict[str, Callable[..., bool]] = {
    "length_constraints:number_sentences": _number_sentences,
    "change_case:capital_word_frequency": _capital_word_frequency,
}


@functools.cache
def _ifbench_registry() -> dict[str, Any]:
    """IFBench's checkers (as packaged in if-verifiable); importing them tries to download NLTK data, which
    is suppressed here: checkers that need that data raise LookupError and are reported unsupported."""
    import langdetect
    import nltk

    real_download = nltk.download
    nltk.download = lambda *_a, **_k: False
    try:
        from if_verifiable.ifbench import instructions_registry
    finally:
        nltk.download = real_download
    langdetect.DetectorFactory.seed = 0
    registry = dict(instructions_registry.INSTRUCTION_DICT)
    registry[_PARAGRAPH_LAST_FIRST] = _paragraph_last_first_as_ifbench(registry[_PARAGRAPH_LAST_FIRST])
    return registry


_PARAGRAPH_LAST_FIRST = "words:paragraph_last_first"
_PUNCTUATION_AND_SPACE = string.punctuation + " "


def _paragraph_last_first_as_ifbench(base: type) -> type:
    """if-verifiable's copy of this checker skips a line of punctuation only (a `***` separator); IFBench
    itself fails it, since such a line has no first and last word. Scores follow IFBench."""

    class ParagraphLastFirstAsIFBench(base):  # type: ignore[misc, valid-type]
        def check_following(self, value: str) -> bool:
            for line in value.split("\n"):
                line = line.strip().lower()
                if not line:
                    continue
                words = line.strip(_PUNCTUATION_AND_SPACE).split()
                if not words or words[0] != words[-1]:
                    return False
            return True

    return ParagraphLastFirstAsIFBench


@functools.cache
def _ifeval_registry() -> dict[str, Any]:
    import langdetect
    from if_verifiable.ifeval import instructions_registry

    langdetect.DetectorFactory.seed = 0  # IFEval's language checks call langdetect, random unless seeded

    return {k: v for k, v in instructions_registry.INSTRUCTION_DICT.items() if k not in _NEEDS_NLTK_DATA}


def known_constraint_ids() -> list[str]:
    return sorted({*_ifeval_registry(), *_OWN})


def check_one(constraint: Constraint, text: str, registry: str = "ifeval", prompt: str | None = None) -> bool:
    """True iff `text` satisfies the constraint; raises for unknown ids, bad arguments or missing data."""
    if registry == "ifeval" and constraint.id in _OWN:
        return bool(_OWN[constraint.id](text, **constraint.kwargs))
    checkers = _ifeval_registry() if registry == "ifeval" else _ifbench_registry()
    if constraint.id not in checkers:
        raise UnknownConstraintError(f"unknown constraint id {constraint.id!r} in the {registry} registry")
    checker = checkers[constraint.id](constraint.id)
    checker.build_description(**{k: v for k, v in constraint.kwargs.items() if v is not None})
    args = checker.get_instruction_args()
    if prompt is not None and args and "prompt" in args:
        checker.build_description(prompt=prompt)
    return bool(text.strip()) and bool(checker.check_following(text))


CONSTRAINT_BUDGET_SECONDS = 5.0
# Every instruction-following task asks for a response, and most checkers only restrict one ("lowercase", "fewer
# than 40 words", "no commas", "wrap it in quotes"): "", ".", '""' or four empty bullets would satisfy them.
# So a completion to a project task must hold at least one word (two letters or digits in a row).
_CONTENT = re.compile(r"[^\W_]{2}")


def check_constraints(completion: str, spec: Constraints, prompt: str | None = None) -> Verdict:
    """Reward 1.0 iff every constraint holds; the reason names the first that fails. The checks run in a
    helper process under CONSTRAINT_BUDGET_SECONDS (`constraint_helper.py`): past it the reward is 0."""
    from rlvr_assets.core.sandbox.budget import BudgetExceeded, budgeted

    if not completion.strip():
        return Verdict(0.0, "empty completion")
    check = budgeted("rlvr_assets.core.domains.instruction_following.constraint_helper:constraint_verdict")
    try:
        reward, reason = check(
            completion, spec.model_dump(mode="json"), prompt, budget_seconds=CONSTRAINT_BUDGET_SECONDS
        )
    except BudgetExceeded:
        return Verdict(0.0, f"constraint check too costly (over {CONSTRAINT_BUDGET_SECONDS:g} s)")
    except RuntimeError as exc:  # the checker raised in the helper: a verifier bug, logged as verify() logs one
        _log.warning("constraint check for %s raised %s in its helper; reward 0", spec.summary(), exc)
        return Verdict(0.0, f"verifier error: constraint check failed: {exc} (reward 0)")
    return Verdict(float(reward), str(reason))


def check_constraints_here(completion: str, spec: Constraints, prompt: str | None = None) -> Verdict:
    """`check_constraints` in this process, unbudgeted (the helper's side)."""
    if not completion.strip():
        return Verdict(0.0, "empty completion")
    for constraint in spec.constraints:
        try:
            ok = check_one(constraint, completion, spec.registry, prompt)
        except UnknownConstraintError as exc:
            return Verdict(0.0, f"verifier error: {exc}")
        except LookupError as exc:  # NLTK data that is not installed: unscorable, never a pass
            return Verdict(0.0, f"verifier error: constraint {constraint.id} needs unavailable data: {exc}")
        except (TypeError, ValueError, KeyError, re.error) as exc:  # re.error: an argument that is no pattern
            return Verdict(0.0, f"verifier error: constraint {constraint.id} rejects its arguments: {exc}")
        if not ok:
            detail = f" {constraint.kwargs}" if constraint.kwargs else ""
            return Verdict(0.0, f"constraint {constraint.id}{detail} not met")
    # checked last (a bad argument or a failed constraint is the better reason), and only for the project's own
    # tasks: benchmark (IFBench) items are scored as IFBench scores them, for comparability
    if spec.registry == "ifeval" and not _CONTENT.search(completion):
        return Verdict(0.0, "no content: the completion has no word (every constraint here presumes a response)")
    return Verdict(1.0, f"all {len(spec.constraints)} constraints met")


def ifbench_supported(constraint_id: str) -> bool:
    """Whether an IFBench checker runs offline here (some need NLTK data at check time)."""
    checker = _ifbench_registry()[constraint_id](constraint_id)
    try:
        checker.build_description()
        checker.check_following("A short probe sentence. Another one follows here, with words.")
    except LookupError:
        return False
    except Exception:
        return True
    return True
