"""Code versions derived from source, so no version is ever bumped by hand.

An asset's code version is a digest of its own function, of the project functions and constants it uses, and
of every core module it reaches (with everything those import). Why derived and not a hand-kept number: a
forgotten bump leaves an asset shown fresh although its code changed, silently; a digest can only err the
other way, re-running an asset after an edit that changed nothing it computes. To keep those re-runs rare,
docstrings, comments, formatting and `description=` keywords are left out of the digest.

Granularity: functions outside `rlvr_assets.core` (the Dagster layer) are followed name by name, so editing
one asset's body leaves its neighbours in the same file fresh; a core module counts whole, with its imports,
because its constants, classes and helpers all feed a result and a module is what a maintainer edits.
Installed libraries (torch, transformers, trl) are not part of it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "rlvr_assets"
WHOLE_MODULES = "rlvr_assets.core"


class _Normalise(ast.NodeTransformer):
    """Drops what cannot change a result: docstrings and `description=` keywords."""

    def _strip_docstring(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        return self.generic_visit(node)

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip_docstring

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.keywords = [k for k in node.keywords if k.arg != "description"]
        return self.generic_visit(node)


def _digest(node: ast.AST) -> str:
    """Of a normalised node; formatting-insensitive: the dump has no line numbers, the parser keeps no comments."""
    text = ast.dump(node, annotate_fields=False, include_attributes=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _names(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id


@dataclass(frozen=True)
class _Module:
    name: str
    tree: ast.Module
    definitions: dict[str, list[ast.stmt]]  # top-level name -> the statements that bind it
    imports: dict[str, tuple[str, str | None]]  # local name -> (module, attribute or None for a module)


class SourceIndex:
    """Parses each module of `package` at most once and derives code versions from it.

    One index serves one set of definitions: it reads the files as they are when first asked, so build a new
    one to see edits."""

    def __init__(self, package: str = PACKAGE, whole_modules: str = WHOLE_MODULES) -> None:
        self._package = package
        self._whole = whole_modules
        self._modules: dict[str, _Module] = {}
        self._module_digests: dict[str, str] = {}
        self._found: dict[str, bool] = {}

    def version(self, fn: Callable[..., object]) -> str:
        """12 hex digits that change whenever `fn` or code it reaches changes (up to prose and formatting)."""
        module = self._module(fn.__module__)
        node = self._function_node(module, fn.__qualname__)
        parts = {f"{module.name}:{fn.__qualname__}": _digest(node)}
        whole: set[str] = set()
        self._follow(module, node, parts, whole)
        for name in self._closure(whole):
            parts[name] = self._module_digest(name)
        payload = "\n".join(f"{k}={v}" for k, v in sorted(parts.items()))
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def _in_package(self, name: str) -> bool:
        return name == self._package or name.startswith(self._package + ".")

    def _is_whole(self, name: str) -> bool:
        return name == self._whole or name.startswith(self._whole + ".")

    def _is_module(self, name: str) -> bool:
        if name not in self._found:
            try:
                self._found[name] = importlib.util.find_spec(name) is not None
            except ModuleNotFoundError:
                self._found[name] = False
        return self._found[name]

    def _module(self, name: str) -> _Module:
        if name not in self._modules:
            spec = importlib.util.find_spec(name)
            if spec is None or spec.origin is None:
                raise LookupError(f"no source for module {name}")
            tree = _Normalise().visit(ast.parse(Path(spec.origin).read_text(), filename=spec.origin))
            package = name if spec.submodule_search_locations is not None else name.rpartition(".")[0]
            definitions: dict[str, list[ast.stmt]] = {}
            for stmt in tree.body:
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    definitions.setdefault(stmt.name, []).append(stmt)
                elif isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                    targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                    for target in targets:
                        for bound in _names(target):
                            definitions.setdefault(bound, []).append(stmt)
            imports: dict[str, tuple[str, str | None]] = {}
            for stmt in ast.walk(tree):  # lazy imports inside functions count too
                if isinstance(stmt, ast.Import):
                    for alias in stmt.names:
                        if alias.asname:
                            imports[alias.asname] = (alias.name, None)
                        else:
                            top = alias.name.partition(".")[0]
                            imports[top] = (top, None)
                            imports.setdefault(alias.name, (alias.name, None))
                elif isinstance(stmt, ast.ImportFrom):
                    base = importlib.util.resolve_name("." * stmt.level + (stmt.module or ""), package)
                    for alias in stmt.names:
                        imports[alias.asname or alias.name] = (base, alias.name)
                elif isinstance(stmt, ast.Constant) and isinstance(stmt.value, str) and stmt.value.endswith(".py"):
                    # a sibling module run as a script (`Path(__file__).with_name("worker.py")`) is code it runs
                    sibling = Path(spec.origin).with_name(stmt.value)
                    if sibling.is_file() and stmt.value[:-3].isidentifier():
                        imports[f"<script {stmt.value}>"] = (f"{package}.{stmt.value[:-3]}", None)
            self._modules[name] = _Module(name, tree, definitions, imports)
        return self._modules[name]

    @staticmethod
    def _function_node(module: _Module, qualname: str) -> ast.AST:
        """The def of `qualname` (nested functions included, `<locals>` skipped) in the module's source."""
        scope: list[ast.stmt] = module.tree.body
        node: ast.AST | None = None
        for part in (p for p in qualname.split(".") if p != "<locals>"):
            node = next(
                (
                    s
                    for s in ast.walk(ast.Module(body=scope, type_ignores=[]))
                    if isinstance(s, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef) and s.name == part
                ),
                None,
            )
            if node is None:
                raise LookupError(f"{qualname} not found in the source of {module.name}")
            scope = node.body  # type: ignore[attr-defined]
        assert node is not None
        return node

    def _target_module(self, target: str, attribute: str | None) -> str | None:
        """The module an import binds, when it binds a module (`import m`, `from package import module`)."""
        if attribute is None:
            return target
        candidate = f"{target}.{attribute}"
        return candidate if self._in_package(candidate) and self._is_module(candidate) else None

    def _follow(self, module: _Module, node: ast.AST, parts: dict[str, str], whole: set[str]) -> None:
        for name in set(_names(node)):
            self._follow_name(module, name, parts, whole)

    def _follow_name(self, module: _Module, name: str, parts: dict[str, str], whole: set[str]) -> None:
        key = f"{module.name}:{name}"
        if key in parts:
            return
        if name in module.definitions:
            statements = module.definitions[name]
            parts[key] = hashlib.sha256("".join(_digest(s) for s in statements).encode()).hexdigest()
            for stmt in statements:
                self._follow(module, stmt, parts, whole)
            return
        if name not in module.imports:
            return  # a builtin, a local or a parameter
        target, attribute = module.imports[name]
        if not self._in_package(target):
            return  # an installed library
        as_module = self._target_module(target, attribute)
        if as_module is not None or self._is_whole(target):
            whole.add(as_module or target)
            return
        parts[key] = f"from {target}"
        assert attribute is not None
        self._follow_name(self._module(target), attribute, parts, whole)

    def _closure(self, roots: set[str]) -> list[str]:
        """`roots` and every package module they import, anywhere in their source."""
        seen: set[str] = set()
        todo = sorted(roots)
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.add(name)
            for target, attribute in self._module(name).imports.values():
                if self._in_package(target):
                    todo.append(self._target_module(target, attribute) or target)
        return sorted(seen)

    def _module_digest(self, name: str) -> str:
        if name not in self._module_digests:
            self._module_digests[name] = _digest(self._module(name).tree)
        return self._module_digests[name]
