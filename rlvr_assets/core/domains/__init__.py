"""The domain registry: every task domain the core knows, by name.

Each folder of this package is one domain: `spec.py` (its verifier spec types), `domain.py` (its `Domain`:
seed fields, verifier, how ground truth is re-derived for a variant, operator hooks, episodes) and the
checkers, environments and sandbox workers it needs; see `base.Domain`. To add a domain, write its folder and
add its class to `_DOMAIN_CLASSES` below: nothing else in the core names a domain (tests/test_layers.py
holds that), except a held-out loader under core/evaluation/ if the domain has held-out data.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated, Any, Union

from pydantic import Field

from rlvr_assets.core.domains.base import Domain, VerifierSpecBase
from rlvr_assets.core.domains.code.domain import Code
from rlvr_assets.core.domains.function_calling.domain import FunctionCalling
from rlvr_assets.core.domains.instruction_following.domain import InstructionFollowing
from rlvr_assets.core.domains.reasoning.domain import Reasoning

_DOMAIN_CLASSES: tuple[type[Domain], ...] = (Reasoning, Code, InstructionFollowing, FunctionCalling)

REGISTRY: MappingProxyType[str, Domain] = MappingProxyType({cls.name: cls() for cls in _DOMAIN_CLASSES})
DOMAINS: tuple[str, ...] = tuple(REGISTRY)

_SPEC_TYPES: tuple[type[VerifierSpecBase], ...] = tuple(s for d in REGISTRY.values() for s in d.spec_types)
# The verifier field of a Task: any registered domain's spec, told apart by its `type` literal.
VerifierSpec = Annotated[Union[_SPEC_TYPES], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


class UnknownDomainError(KeyError):
    """A task or seed names a domain that is not registered."""


def get_domain(name: str) -> Domain:
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownDomainError(f"unsupported domain {name!r}; one of {list(DOMAINS)}") from None


def domain_of(task: Any) -> Domain:
    """The domain of a Task (anything with a `.domain` name)."""
    return get_domain(task.domain)
