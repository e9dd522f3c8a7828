"""The layers of `rlvr_assets/core/`: which package may import which, no import circle, and the few facts the
schema keeps beside the code it must not import.

Imports are read from the source (an AST walk), at every depth: module level, `if TYPE_CHECKING:` and inside
functions all count, since each is a dependency a maintainer has to follow.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path

import pytest

from rlvr_assets.core.config import PAPER10_BENCHMARKS
from rlvr_assets.core.evaluation.benchmarks import registry

PACKAGE_DIR = Path(__file__).resolve().parents[1] / "rlvr_assets"

# Stages, lowest first: a stage may import the ones before it, never one after.
STAGES = ("policy", "augment", "gate", "training", "evaluation", "economics", "audit", "interop")
DOMAIN_NAMING_STAGES = ("rlvr_assets.core.evaluation.", "rlvr_assets.core.interop.", "rlvr_assets.core.audit.")
BELOW_STAGES = {"kernel", "store", "sandbox", "config", "registry", "domains.base", "tasks"}

# Known exceptions, each with why; the test fails if one is no longer needed, so the list only shrinks.
EXCEPTIONS = {
    # the task model stores function calling's environment state as a typed field
    ("rlvr_assets.core.tasks.model", "rlvr_assets.core.domains.function_calling.environments"),
    # reasoning re-derives answers by running `solve` in the code domain's sandbox (to move into sandbox/)
    ("rlvr_assets.core.domains.reasoning.solutions", "rlvr_assets.core.domains.code.spec"),
    ("rlvr_assets.core.domains.reasoning.solutions", "rlvr_assets.core.domains.code.verifier"),
}


def layer(module: str) -> str:
    """The layer a module of the package belongs to (see docs/layout.md)."""
    parts = module.split(".")
    if parts[:2] != ["rlvr_assets", "core"]:
        return "app"  # cli, definitions, train, sweep and the Dagster layer defs/
    if len(parts) == 2:
        return "core"
    if parts[2] == "domains":
        if len(parts) == 3:
            return "registry"
        return "domains.base" if parts[3] == "base" else f"domain:{parts[3]}"
    return parts[2]


def allowed(source: str, target: str) -> bool:
    """Whether the layer of `source` may import the layer of `target`."""
    src, dst = layer(source), layer(target)
    if src == dst or src == "app":
        return True
    if src in ("kernel", "store", "config"):
        return False  # kernel/ and store/ import nothing from the package; config.py nothing from core/
    if src == "sandbox":
        return dst == "kernel"
    if src == "domains.base":
        return dst in ("kernel", "sandbox")
    if src.startswith("domain:"):
        return dst in ("kernel", "sandbox", "domains.base")
    if src == "registry":
        return dst in ("kernel", "domains.base") or dst.startswith("domain:")
    if src == "tasks":
        return dst in ("kernel", "sandbox", "config", "store", "registry", "domains.base")
    if src in STAGES:
        if dst in BELOW_STAGES:
            return True
        if dst.startswith("domain:"):
            # the places a stage names a domain: held-out loaders and task sources build tasks of a domain's
            # spec types; the gate audit's probes render each domain's known-bad completions against a variant
            return source.startswith(DOMAIN_NAMING_STAGES)
        return dst in STAGES and STAGES.index(dst) < STAGES.index(src)
    return False


def _modules(root: Path = PACKAGE_DIR) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        out[".".join(parts)] = path
    return out


def import_graph(root: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Module -> the package modules it imports anywhere in its source (`from package import module` is an
    edge to the module; `from module import name` to the module)."""
    modules = _modules(root)
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                edges |= {a.name for a in node.names if a.name in modules}
            elif isinstance(node, ast.ImportFrom):
                base = importlib.util.resolve_name("." * node.level + (node.module or ""), package)
                for alias in node.names:
                    if f"{base}.{alias.name}" in modules:
                        edges.add(f"{base}.{alias.name}")
                    elif base in modules:
                        edges.add(base)
        graph[name] = edges - {name}
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.get(child, ())))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def violations(graph: dict[str, set[str]]) -> set[tuple[str, str]]:
    return {(src, dst) for src, targets in graph.items() for dst in targets if not allowed(src, dst)}


def test_no_import_circle_in_the_package() -> None:
    assert cycles(import_graph()) == []


def test_every_import_keeps_to_the_layer_rules() -> None:
    found = violations(import_graph())
    assert found - EXCEPTIONS == set(), "imports that break the layer rules (docs/layout.md)"
    assert EXCEPTIONS - found == set(), "exceptions no longer needed: drop them from EXCEPTIONS"


def test_no_module_but_a_sandbox_worker_touches_sys_path() -> None:
    """Workers start as isolated scripts (`python -I`), so they put what they share on sys.path themselves;
    nothing else may, or the import graph above stops being the truth."""
    touching = {
        name
        for name, path in _modules().items()
        if "sys.path.insert" in path.read_text() or "sys.path.append" in path.read_text()
    }
    workers = {
        name
        for name in touching
        if name.rpartition(".")[2].endswith("worker") or "_HELPER" in _modules()[name].read_text()
    }
    assert touching == workers, touching - workers


@pytest.mark.parametrize(
    ("where", "line", "rule"),
    [
        ("core/kernel/failures.py", "from rlvr_assets.core.tasks.model import Task", "kernel imports the package"),
        ("core/store/storage.py", "from rlvr_assets.core.kernel.failures import Rejected", "store imports the package"),
        ("core/config.py", "from rlvr_assets.core.kernel.verdict import Verdict", "config imports core"),
        (
            "core/domains/code/domain.py",
            "from rlvr_assets.core.domains.reasoning.answers import canonical_answer",
            "a domain imports another domain",
        ),
        ("core/domains/code/domain.py", "from rlvr_assets.core.tasks.model import Task", "a domain imports tasks/"),
        ("core/gate/factors.py", "from rlvr_assets.core.domains.code.spec import UnitTests", "a stage names a domain"),
        (
            "core/policy/rollouts.py",
            "from rlvr_assets.core.economics.report import markdown_table",
            "a stage imports a later stage",
        ),
    ],
)
def test_the_rules_catch_a_wrong_import(tmp_path: Path, where: str, line: str, rule: str) -> None:
    """The rules are not vacuous: each deliberately wrong import, added to a copy of the tree, is reported."""
    import shutil

    copy = tmp_path / "rlvr_assets"
    shutil.copytree(PACKAGE_DIR, copy, ignore=shutil.ignore_patterns("__pycache__"))
    target = copy / where
    target.write_text(target.read_text() + f"\n\ndef _wrong():\n    {line}\n")
    assert violations(import_graph(copy)) - violations(import_graph()), rule


def test_a_circle_is_caught() -> None:
    graph = import_graph()
    graph["rlvr_assets.core.kernel.verdict"] = graph["rlvr_assets.core.kernel.verdict"] | {
        "rlvr_assets.core.domains.reasoning.answers"
    }
    assert ["rlvr_assets.core.domains.reasoning.answers", "rlvr_assets.core.kernel.verdict"] in cycles(graph)


def test_the_schema_knows_exactly_the_benchmarks_the_registry_serves() -> None:
    """config.py checks `eval.benchmarks` against its own list (it imports nothing from core/), so that list
    must be the registry's paper10, in order."""
    assert tuple(b.name for b in registry(Path("."))["paper10"]) == PAPER10_BENCHMARKS


def test_each_registered_domain_is_one_folder() -> None:
    """Adding a domain is one folder under core/domains/ (plus its registry line): its class and every spec
    type it declares live in `core/domains/<name>/`."""
    from rlvr_assets.core.domains import REGISTRY

    for name, domain in REGISTRY.items():
        folder = f"rlvr_assets.core.domains.{name}."
        assert type(domain).__module__.startswith(folder), (name, type(domain).__module__)
        assert all(spec.__module__.startswith(folder) for spec in domain.spec_types), name
