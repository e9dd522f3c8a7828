"""Code versions derived from source, so no version is ever bumped by hand.

An asset's code version is a digest of its own function and of the project functions, classes and constants it
uses, followed name by name through the whole package (`rlvr_assets.core` included): a name imported from a
project module is followed into that module, `module.name` is followed as that name, and a string naming
`module:function` (a helper process's target) or a sibling `worker.py` (a script a sandbox runs) counts as code
it runs. What an asset does not use is not part of its version, even in a module it imports: editing a
figure's colour or a report heading leaves `policy_checkpoint` fresh, editing the GRPO step makes it stale.

Why derived and not a hand-kept number: a forgotten bump leaves an asset shown fresh although its code changed,
silently; a digest can only err the other way, re-running an asset after an edit that changed nothing it
computes. To keep those re-runs rare, docstrings, comments, formatting and `description=` keywords are left
out of the digest. A module is counted whole only where it is used as a whole: run as a script
(`python -m module`, a worker file) or handed around as an object. Installed libraries (torch, transformers,
trl) are not part of it. What this cannot see: code reached only through objects handed in at run time
(a resource's methods), which the resource's own class covers where an asset names it.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "rlvr_assets"
# Keywords whose values only describe or show: `description=` is prose, `metadata=` is what an asset shows in the
# UI (a reward-curve picture, a markdown table), not what it stores or hands downstream.
_PROSE_KEYWORDS = ("description", "metadata")
_TARGET = re.compile(r"^([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):([A-Za-z_]\w*)$")  # "module:function"


class _Normalise(ast.NodeTransformer):
    """Drops what cannot change a result: docstrings, `description=` and `metadata=` keywords."""

    def _strip_docstring(self, node: ast.AST) -> ast.AST:
        body = getattr(node, "body", None)
        first = body[0] if body else None
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
            node.body = body[1:] or [ast.Pass()]  # type: ignore[attr-defined]
        return self.generic_visit(node)

    visit_Module = visit_ClassDef = visit_FunctionDef = visit_AsyncFunctionDef = _strip_docstring

    def visit_Call(self, node: ast.Call) -> ast.AST:
        node.keywords = [k for k in node.keywords if k.arg not in _PROSE_KEYWORDS]
        return self.generic_visit(node)


def _digest(node: ast.AST) -> str:
    """Of a normalised node; formatting-insensitive: the dump has no line numbers, the parser keeps no comments."""
    text = ast.dump(node, annotate_fields=False, include_attributes=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _names(node: ast.AST) -> Iterator[str]:
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            yield child.id


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """`ast.walk` without the annotations of function signatures: a parameter's or return's type computes
    nothing (`from __future__ import annotations` leaves them unevaluated), so `-> Task` does not make a
    function's version cover the task model. A dataclass's or pydantic model's field annotations do count."""
    todo = [node]
    skip: set[int] = set()
    while todo:
        current = todo.pop()
        yield current
        if isinstance(current, ast.FunctionDef | ast.AsyncFunctionDef):
            args = current.args
            every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
            skip |= {id(a.annotation) for a in every if a is not None and a.annotation is not None}
            if current.returns is not None:
                skip.add(id(current.returns))
        todo.extend(child for child in ast.iter_child_nodes(current) if id(child) not in skip)


def _top_level(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, looking inside `if`/`try`/`with` blocks (`if TYPE_CHECKING:`, optional imports)."""
    for stmt in body:
        if isinstance(stmt, ast.If | ast.Try | ast.With):
            for block in ("body", "orelse", "finalbody", "handlers"):
                for inner in getattr(stmt, block, []):
                    yield from _top_level(inner.body if isinstance(inner, ast.ExceptHandler) else [inner])
        else:
            yield stmt


@dataclass(frozen=True)
class _Module:
    name: str
    path: Path
    tree: ast.Module
    definitions: dict[str, list[ast.stmt]]  # top-level name -> the statements that bind or change it
    imports: dict[str, tuple[str, str | None]]  # local name -> (module, attribute or None for a module)


class SourceIndex:
    """Parses each module of `package` at most once and derives code versions from it.

    One index serves one set of definitions: it reads the files as they are when first asked, so build a new
    one to see edits."""

    def __init__(self, package: str = PACKAGE, root: Path | None = None) -> None:
        """`root`: the directory holding the package's source (by default where it is imported from); a test
        points it at an edited copy of the tree."""
        self._package = package
        if root is None:
            spec = importlib.util.find_spec(package)
            if spec is None or not spec.submodule_search_locations:
                raise LookupError(f"{package} is not an importable package")
            root = Path(next(iter(spec.submodule_search_locations)))
        self._root = root
        self._modules: dict[str, _Module] = {}
        self._sources: dict[str, tuple[Path, bool] | None] = {}
        self._digests: dict[int, str] = {}  # id of a parsed node (kept alive by self._modules) -> digest
        self._uses_of: dict[int, list[tuple[str, str, tuple[str, ...]]]] = {}

    def version(self, fn: Callable[..., object]) -> str:
        """12 hex digits that change whenever `fn` or code it uses changes (up to prose and formatting)."""
        parts = self.parts(fn)
        payload = "\n".join(f"{k}={v}" for k, v in sorted(parts.items()))
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def parts(self, fn: Callable[..., object]) -> dict[str, str]:
        """What the version of `fn` covers: `module:name` (or `module:*` for a module used whole) -> digest."""
        module = self._module(fn.__module__)
        node = self._function_node(module, fn.__qualname__)
        parts = {f"{module.name}:{fn.__qualname__}": self._digest(node)}
        self._follow(module, node, parts)
        return parts

    def _in_package(self, name: str) -> bool:
        return name == self._package or name.startswith(self._package + ".")

    def _digest(self, node: ast.AST) -> str:
        if id(node) not in self._digests:
            self._digests[id(node)] = _digest(node)
        return self._digests[id(node)]

    def _source(self, name: str) -> tuple[Path, bool] | None:
        """The file of package module `name` and whether it is a package's `__init__.py` (None: no such module)."""
        if name not in self._sources:
            self._sources[name] = self._find_source(name)
        return self._sources[name]

    def _find_source(self, name: str) -> tuple[Path, bool] | None:
        if not self._in_package(name):
            return None
        relative = Path(*name.split(".")[1:])
        if (self._root / relative / "__init__.py").is_file():
            return self._root / relative / "__init__.py", True
        if relative.parts and (self._root / relative).with_suffix(".py").is_file():
            return (self._root / relative).with_suffix(".py"), False
        return None

    def _is_module(self, name: str) -> bool:
        return self._source(name) is not None

    def _module(self, name: str) -> _Module:
        if name not in self._modules:
            found = self._source(name)
            if found is None:
                raise LookupError(f"no source for module {name}")
            path, is_package = found
            tree = _Normalise().visit(ast.parse(path.read_text(), filename=str(path)))
            package = name if is_package else name.rpartition(".")[0]
            definitions: dict[str, list[ast.stmt]] = {}
            for stmt in _top_level(tree.body):
                if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                    definitions.setdefault(stmt.name, []).append(stmt)
                elif isinstance(stmt, ast.Import | ast.ImportFrom):
                    continue
                else:
                    # an assignment binds its targets; any other statement (a registration call, a loop filling
                    # a table) may change the module-level names it mentions, so it counts for each of them
                    if isinstance(stmt, ast.Assign | ast.AnnAssign | ast.AugAssign):
                        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                        bound = {n for t in targets for n in _names(t)}
                    else:
                        bound = set(_names(stmt))
                    for name_ in bound:
                        definitions.setdefault(name_, []).append(stmt)
            imports: dict[str, tuple[str, str | None]] = {}
            for stmt in ast.walk(tree):  # lazy imports inside functions count too
                if isinstance(stmt, ast.Import):
                    for alias in stmt.names:
                        if alias.asname:
                            imports[alias.asname] = (alias.name, None)
                        else:
                            top = alias.name.partition(".")[0]
                            imports.setdefault(top, (top, None))
                elif isinstance(stmt, ast.ImportFrom):
                    base = importlib.util.resolve_name("." * stmt.level + (stmt.module or ""), package)
                    for alias in stmt.names:
                        imports[alias.asname or alias.name] = (base, alias.name)
            self._modules[name] = _Module(name, path, tree, definitions, imports)
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

    def _module_of(self, module: _Module, name: str) -> str | None:
        """The package module a local name binds, when it binds one (`import m as x`, `from package import m`)."""
        if name not in module.imports:
            return None
        target, attribute = module.imports[name]
        candidate = target if attribute is None else f"{target}.{attribute}"
        return candidate if self._is_module(candidate) else None

    def _follow(self, module: _Module, node: ast.AST, parts: dict[str, str]) -> None:
        """Follow every project name `node` uses: plain names, `module.name` chains and code named in strings."""
        for kind, first, rest in self._uses(module, node):
            if kind == "attribute":
                self._follow_attribute(first, list(rest), parts)
            elif kind == "string":
                self._follow_string(module, first, parts)
            else:
                self._follow_name(module, first, parts)

    def _uses(self, module: _Module, node: ast.AST) -> list[tuple[str, str, tuple[str, ...]]]:
        """What `node` names, found once per node (every asset of a run shares the walk)."""
        key = id(node)
        if key not in self._uses_of:
            uses: list[tuple[str, str, tuple[str, ...]]] = []
            chained: set[int] = set()
            nodes = list(_walk(node))
            for child in nodes:
                if isinstance(child, ast.Attribute):
                    chain: list[str] = []
                    base: ast.expr = child
                    while isinstance(base, ast.Attribute):
                        chain.insert(0, base.attr)
                        base = base.value
                    if not isinstance(base, ast.Name) or id(base) in chained:
                        continue
                    target = self._module_of(module, base.id)
                    if target is not None:
                        chained.add(id(base))
                        uses.append(("attribute", target, tuple(chain)))
                elif (
                    isinstance(child, ast.Constant)
                    and isinstance(child.value, str)
                    and (child.value.endswith(".py") or _TARGET.match(child.value))
                ):
                    uses.append(("string", child.value, ()))
            names = {child.id for child in nodes if isinstance(child, ast.Name) and id(child) not in chained}
            uses += [("name", name, ()) for name in sorted(names)]
            self._uses_of[key] = uses
        return self._uses_of[key]

    def _follow_attribute(self, target: str, chain: list[str], parts: dict[str, str]) -> None:
        """`target.a.b...`: descend through submodules, then follow the first name that is not one."""
        for attribute in chain:
            if self._is_module(f"{target}.{attribute}"):
                target = f"{target}.{attribute}"
                continue
            module = self._module(target)
            if attribute in module.definitions or attribute in module.imports:
                self._follow_name(module, attribute, parts)
                return
            break  # `module.__name__`: the module itself is what is used (run as a script)
        self._whole(target, parts)

    def _follow_string(self, module: _Module, text: str, parts: dict[str, str]) -> None:
        if text.endswith(".py"):
            # a script this runs: a sibling (`Path(__file__).with_name("worker.py")`) or a path relative to the
            # file (`os.path.join(__file__, "../../sandbox/code_worker.py")`, a worker's kit)
            for candidate in (module.path.parent / text, module.path / text):
                script = Path(os.path.normpath(candidate))
                if script.is_file() and script.is_relative_to(self._root):
                    relative = script.relative_to(self._root).with_suffix("").parts
                    if all(part.isidentifier() for part in relative):
                        self._whole(".".join((self._package, *relative)), parts)
                        return
            return
        match = _TARGET.match(text)
        if match and self._is_module(match[1]):
            self._follow_name(self._module(match[1]), match[2], parts)  # "module:function", a helper's target

    def _follow_name(self, module: _Module, name: str, parts: dict[str, str]) -> None:
        key = f"{module.name}:{name}"
        if key in parts:
            return
        if name in module.definitions:
            statements = module.definitions[name]
            parts[key] = hashlib.sha256("".join(self._digest(s) for s in statements).encode()).hexdigest()
            for stmt in statements:
                self._follow(module, stmt, parts)
            return
        if name not in module.imports:
            return  # a builtin, a local or a parameter
        target, attribute = module.imports[name]
        if not self._in_package(target):
            return  # an installed library
        as_module = self._module_of(module, name)
        if as_module is not None:
            self._whole(as_module, parts)  # a module used as a value, not through `module.name`
            return
        parts[key] = f"from {target}"
        assert attribute is not None
        self._follow_name(self._module(target), attribute, parts)

    def _whole(self, name: str, parts: dict[str, str]) -> None:
        """A module used as a whole: its full source, and every project name anywhere in it."""
        key = f"{name}:*"
        if key in parts:
            return
        module = self._module(name)
        parts[key] = self._digest(module.tree)
        self._follow(module, module.tree, parts)
