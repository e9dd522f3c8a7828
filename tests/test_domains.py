"""The domain contract, checked for every registered domain (reasoning-gym's common dataset test, for domains).

Whatever a domain is, its seeds' references pass, their known-bad solutions fail, every variant the
operators make keeps a ground truth its own reference passes (and the gate's V_faithful agrees), and an
unknown seed field is an error naming the field. A new domain is covered by registering it.
"""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest

from rlvr_assets.core.augment.operators import OPERATORS, apply_operators
from rlvr_assets.core.domains import DOMAINS, REGISTRY, get_domain
from rlvr_assets.core.gate.factors import check_faithful
from rlvr_assets.core.tasks.seeds import SeedFileError, load_seed_dir, parse_seed_record
from rlvr_assets.core.tasks.verifiers import verify

ROOT = Path(__file__).resolve().parents[1]
SEEDS = load_seed_dir(ROOT / "seeds")


def _seeds_of(domain: str) -> list:
    tasks = [t for t in SEEDS if t.domain == domain]
    assert tasks, f"no seeds for registered domain {domain}"
    return tasks


@pytest.mark.parametrize("domain", DOMAINS)
def test_reference_passes_and_known_bad_fail(domain: str) -> None:
    for task in _seeds_of(domain)[:4]:
        assert verify(task, task.reference_solution).reward == 1.0, task.name
        for bad in task.known_bad:
            assert verify(task, bad).reward == 0.0, (task.name, bad)


@pytest.mark.parametrize("domain", DOMAINS)
def test_variants_keep_a_ground_truth_their_reference_passes(domain: str) -> None:
    base = [t for t in _seeds_of(domain) if t.provenance.split == "base"][:2]
    parents = {t.id: t for t in base}
    variants = [
        a.variant for p in base for a in apply_operators(p, sorted(get_domain(domain).operators), 0, 1) if a.variant
    ]
    assert variants, f"no operator produced a {domain} variant"
    for v in variants:
        assert v.domain == domain and v.provenance.parent_id in parents
        assert verify(v, v.reference_solution).reward == 1.0, (v.name, v.provenance.operator)
    faithful, _cpu = check_faithful(variants, parents)
    assert all(r.passed for r in faithful), [r.reason for r in faithful if not r.passed]


@pytest.mark.parametrize("domain", DOMAINS)
def test_unknown_seed_field_is_an_error_naming_it(domain: str, tmp_path: Path) -> None:
    task = _seeds_of(domain)[0]
    record = json.loads(next(line for line in _seed_lines(task.provenance.source_file) if f'"{task.name}"' in line))
    record["colour"] = "blue"
    with pytest.raises(SeedFileError) as err:
        parse_seed_record(record, tmp_path / "x.jsonl", 1, 20.0)
    assert err.value.field == "colour" and task.name in str(err.value)


def test_every_domain_declares_its_hooks_consistently() -> None:
    for name, domain in REGISTRY.items():
        assert domain.name == name and domain.spec_types and domain.required_seed_fields
        assert set(domain.required_seed_fields) <= domain.seed_fields
        assert domain.operators <= set(OPERATORS), domain.operators - set(OPERATORS)
        for op, text in (("add_hint", domain.hint), ("vaguer_instruction", domain.vague_instruction)):
            assert (op in domain.operators) <= (text is not None), f"{name}: {op} needs its text"


def test_no_core_module_outside_the_registry_branches_on_a_domain() -> None:
    """The point of the registry: only core/domains/ may compare a domain name or test a verifier spec type."""
    spec_names = {s.__name__ for d in REGISTRY.values() for s in d.spec_types}
    offenders = []
    for path in sorted((ROOT / "rlvr_assets").rglob("*.py")):
        if "domains" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            sides = [node.left, *node.comparators] if isinstance(node, ast.Compare) else []
            if any(isinstance(s, ast.Attribute) and s.attr == "domain" for s in sides) and any(
                isinstance(c, ast.Constant) and c.value in DOMAINS for s in sides for c in ast.walk(s)
            ):
                offenders.append(f"{path.name}:{node.lineno} compares .domain with a domain name")
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Name)
                and node.func.id == "isinstance"
                and any(isinstance(n, ast.Name) and n.id in spec_names for n in ast.walk(node.args[1]))
            ):
                offenders.append(f"{path.name}:{node.lineno} tests a verifier spec type")
    assert not offenders, offenders


def _seed_lines(source_file: str | None) -> list[str]:
    assert source_file
    return Path(source_file).read_text().splitlines()
