"""Static import analysis, run INSIDE the user's interpreter: stdlib only, Python 3.8+ syntax and APIs.

Usage: `<interpreter> probe.py < request.json > answer.json`. The request names the root files (entry
scripts), the modules run by name (`python -m pkg.mod`: `module_names`) and the working directory. The
probe parses local code with `ast`, finds modules the way the import system would (built-in/frozen, local
folders, then the interpreter's own `sys.path` and meta path finders), maps installed modules to
distributions via RECORD files, and never imports or runs user code.
"""

from __future__ import annotations

import os
import sys

# Modules the interpreter loaded before running any script (on 3.10 `os` is one, without being frozen):
# a local file of the same name is never imported.
_LOADED_AT_STARTUP = frozenset(name for name in sys.modules if "." not in name)

# The folder of this script is sys.path[0]: drop it so nothing next to the probe can shadow a module.
_HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:] = [entry for entry in sys.path if os.path.abspath(entry or ".") != _HERE]

import ast  # noqa: E402
import csv  # noqa: E402
import importlib.machinery  # noqa: E402
import json  # noqa: E402
import site  # noqa: E402
import sysconfig  # noqa: E402
from dataclasses import dataclass, field  # noqa: E402
from typing import Any  # noqa: E402

MODULE_FILE_EXTENSIONS = (".py", ".pyc", ".pyw", ".so", ".pyd")
IMPORT_ERRORS = {"ImportError", "ModuleNotFoundError", "Exception", "BaseException"}
DYNAMIC_IMPORTERS = {"import_module", "__import__"}
MODULE_SUFFIXES = (
    importlib.machinery.EXTENSION_SUFFIXES
    + importlib.machinery.SOURCE_SUFFIXES
    + importlib.machinery.BYTECODE_SUFFIXES
)


@dataclass(frozen=True)
class ImportSite:
    """Where an import statement is, and whether it sits in a `try/except ImportError` (optional)."""

    where: str
    optional: bool


@dataclass(frozen=True)
class FoundImport:
    """One import as written: dotted `module`, `level` > 0 for a relative one, `names` of `from ... import`
    (each may be a submodule or just an attribute)."""

    module: str
    level: int
    line: int
    optional: bool
    names: tuple[str, ...] = ()


@dataclass
class Collected:
    """What one file's syntax tree says about imports."""

    imports: list[FoundImport] = field(default_factory=list)
    dynamic_lines: list[int] = field(default_factory=list)
    script_names: list[tuple[str, int]] = field(default_factory=list)


def _catches_import_error(handler: ast.ExceptHandler) -> bool:
    if handler.type is None:
        return True
    types = handler.type.elts if isinstance(handler.type, ast.Tuple) else [handler.type]
    return any(_name_of(t) in IMPORT_ERRORS for t in types)


def _name_of(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return ""


def _is_type_checking(test: ast.expr) -> bool:
    return _name_of(test) == "TYPE_CHECKING"


def _is_suppress_import_error(item: ast.withitem) -> bool:
    call = item.context_expr
    return (
        isinstance(call, ast.Call)
        and _name_of(call.func) == "suppress"
        and any(_name_of(arg) in IMPORT_ERRORS for arg in call.args)
    )


def _literal_str(node: ast.expr | None) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    return None


class ImportCollector(ast.NodeVisitor):
    """Collects imports (module level, lazy ones inside functions, optional ones inside try/except)."""

    def __init__(self) -> None:
        self.collected = Collected()
        self._optional = 0

    def _add(self, module: str, level: int, line: int, names: tuple[str, ...] = ()) -> None:
        self.collected.imports.append(FoundImport(module, level, line, self._optional > 0, names))

    def _visit_optional(self, nodes: list[ast.stmt]) -> None:
        self._optional += 1
        for node in nodes:
            self.visit(node)
        self._optional -= 1

    def _visit_all(self, nodes: list[Any]) -> None:
        for node in nodes:
            self.visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, 0, node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = tuple(alias.name for alias in node.names if alias.name != "*")
        self._add(node.module or "", node.level, node.lineno, names)

    def visit_Try(self, node: ast.Try) -> None:
        if any(_catches_import_error(h) for h in node.handlers):
            self._visit_optional(node.body)
        else:
            self._visit_all(node.body)
        self._visit_all(node.handlers)
        self._visit_all(node.orelse)
        self._visit_all(node.finalbody)

    def visit_TryStar(self, node: Any) -> None:
        """`try/except*` (3.11+): same rules as `try`."""
        self.visit_Try(node)

    def visit_If(self, node: ast.If) -> None:
        if _is_type_checking(node.test):
            self._visit_all(node.orelse)  # imports only a type checker sees are not requirements
            return
        self.generic_visit(node)

    def visit_With(self, node: ast.With) -> None:
        self._visit_all(node.items)
        if any(_is_suppress_import_error(item) for item in node.items):
            self._visit_optional(node.body)
        else:
            self._visit_all(node.body)

    def visit_Call(self, node: ast.Call) -> None:
        if _name_of(node.func) in DYNAMIC_IMPORTERS and node.args:
            name = _literal_str(node.args[0])
            if name is None:
                self.collected.dynamic_lines.append(node.lineno)
            else:
                level = len(name) - len(name.lstrip("."))
                self._add(name[level:], level, node.lineno)
        for arg in node.args:
            for item in arg.elts if isinstance(arg, (ast.List, ast.Tuple)) else [arg]:
                text = _literal_str(item)
                if text is not None and text.endswith(".py") and "\n" not in text and len(text) < 300:
                    self.collected.script_names.append((text, node.lineno))
        self.generic_visit(node)


def _real(path: str) -> str:
    return os.path.normcase(os.path.realpath(path))


def _is_under(path: str, folders: list[str]) -> bool:
    return any(path == folder or path.startswith(folder.rstrip(os.sep) + os.sep) for folder in folders)


def _is_namespace(spec: Any) -> bool:
    return spec.origin in (None, "namespace")


def _find_in(name: str, locations: list[str]) -> Any:
    """The spec `name` gets from these folders, as the path finder would build it (no parent imported)."""
    tail = name.rpartition(".")[2]
    portions = []
    for location in locations:
        folder = os.path.join(location, tail)
        is_dir = os.path.isdir(folder)
        init = _module_in(folder, "__init__") if is_dir else None
        if init is not None:
            spec = importlib.machinery.ModuleSpec(name, None, origin=init, is_package=True)
            spec.submodule_search_locations = [folder]
            return spec
        module = _module_in(location, tail)
        if module is not None:
            return importlib.machinery.ModuleSpec(name, None, origin=module)
        if is_dir:
            portions.append(folder)
    if not portions:
        return None
    spec = importlib.machinery.ModuleSpec(name, None, is_package=True)
    spec.submodule_search_locations = portions
    return spec


def _module_in(folder: str, stem: str) -> str | None:
    for suffix in MODULE_SUFFIXES:
        candidate = os.path.join(folder, stem + suffix)
        if os.path.isfile(candidate):
            return candidate
    return None


def _stdlib_names() -> set[str]:
    names = getattr(sys, "stdlib_module_names", None)
    if names is not None:
        return set(names)
    found = set(sys.builtin_module_names)  # Python < 3.10: list the stdlib folders
    paths = sysconfig.get_paths()
    for folder in {paths["stdlib"], paths["platstdlib"], os.path.join(paths["platstdlib"], "lib-dynload")}:
        if not os.path.isdir(folder):
            continue
        for entry in os.listdir(folder):
            stem = entry.split(".")[0]
            if stem.isidentifier() and (
                entry.endswith(MODULE_FILE_EXTENSIONS)
                or os.path.isfile(os.path.join(folder, entry, "__init__.py"))
            ):
                found.add(stem)
    return found


def _environment_folders() -> tuple[list[str], list[str]]:
    """(site folders, stdlib folders) of this interpreter: code there is never the user's local code."""
    paths = sysconfig.get_paths()
    sites = [paths["purelib"], paths["platlib"]]
    if hasattr(site, "getsitepackages"):
        sites += site.getsitepackages()
    user_site = site.getusersitepackages() if hasattr(site, "getusersitepackages") else None
    if user_site:
        sites.append(user_site)
    sites += [p for p in sys.path if os.path.basename(p.rstrip(os.sep)) in ("site-packages", "dist-packages")]
    stdlib = [paths["stdlib"], paths["platstdlib"]]
    stdlib += [p for p in sys.path if p.endswith(".zip")]
    real_sites = sorted({_real(p) for p in sites if p})
    return real_sites, sorted({_real(p) for p in stdlib if p} - set(real_sites))


def _top_level_names(paths: list[str]) -> set[str]:
    """Importable top-level names of RECORD paths: first folders, and modules directly in site-packages."""
    names = set()
    for first, slash in {path.partition("/")[:2] for path in paths}:
        if first in ("", "..", "__pycache__") or first.endswith((".dist-info", ".egg-info", ".data")):
            continue
        stem = first if slash else first.split(".")[0]
        if stem.isidentifier() and (slash or first.endswith(MODULE_FILE_EXTENSIONS)):
            names.add(stem)
    return names


class DistInfo:
    """An installed distribution: where its files are, how it was installed; name and version on demand
    (parsing METADATA is most of the cost of indexing a large environment)."""

    def __init__(self, dist: Any, files: set[str], direct_url: dict[str, Any] | None) -> None:
        self.dist = dist
        self.base = _real(str(dist.locate_file("")))
        self.files = files
        self.direct_url = direct_url
        self._metadata: tuple[str, str] | None = None

    @property
    def name(self) -> str:
        """The distribution's name as its METADATA spells it (`PyYAML`)."""
        return self._read_metadata()[0]

    @property
    def version(self) -> str:
        """The installed version."""
        return self._read_metadata()[1]

    def _read_metadata(self) -> tuple[str, str]:
        if self._metadata is None:
            metadata = self.dist.metadata
            self._metadata = (str(metadata["Name"]), str(metadata["Version"]))
        return self._metadata

    def source_dir(self) -> str | None:
        """The local folder of an editable or path install (`file://` in direct_url.json), if any."""
        url = str((self.direct_url or {}).get("url", ""))
        return _real(url[len("file://") :]) if url.startswith("file://") else None


def _read_record(dist: Any) -> list[str]:
    text = dist.read_text("RECORD")
    if text:
        lines = text.splitlines()
        if '"' in text:  # quoted paths (commas in names) need the csv module
            return [row[0] for row in csv.reader(lines) if row]
        return [line.partition(",")[0] for line in lines if line]
    listed = dist.read_text("installed-files.txt") or ""  # legacy egg-info: paths relative to the egg-info
    egg = os.path.basename(str(getattr(dist, "_path", "")))
    return [os.path.normpath(os.path.join(egg, line)).replace(os.sep, "/") for line in listed.splitlines()]


def _distribution_key(dist: Any) -> str:
    """Normalised name, from the `name-version.dist-info` folder when there is one (no METADATA parsing)."""
    folder = os.path.basename(str(getattr(dist, "_path", "")))
    name = folder.split("-")[0] if folder.endswith((".dist-info", ".egg-info")) else ""
    name = name or str(dist.metadata["Name"] or "")
    return name.lower().replace("_", "-").replace(".", "-")


class DistIndex:
    """Top-level import names -> installed distributions, from RECORD (and top_level.txt)."""

    def __init__(self) -> None:
        self.by_top: dict[str, list[DistInfo]] = {}
        self.all: list[DistInfo] = []
        seen: set[str] = set()
        import importlib.metadata  # about 35 ms of imports, only for code that imports installed packages

        for dist in importlib.metadata.distributions():
            try:
                key = _distribution_key(dist)
                if key and key not in seen:  # the first on sys.path is the one Python imports
                    seen.add(key)
                    self._add(dist)
            except (OSError, ValueError, UnicodeDecodeError):
                continue  # a damaged dist-info must not stop the analysis; its modules count as missing

    def _add(self, dist: Any) -> None:
        files = _read_record(dist)
        raw_url = dist.read_text("direct_url.json")
        info = DistInfo(dist, set(files), json.loads(raw_url) if raw_url else None)
        self.all.append(info)
        tops = _top_level_names(files)
        listed = (dist.read_text("top_level.txt") or "").splitlines()
        tops.update(line.strip() for line in listed if line.strip())
        for top in tops:
            self.by_top.setdefault(top, []).append(info)

    def owner(self, top: str, origin: str | None) -> list[DistInfo]:
        """Distributions providing `top`; a shared namespace (`google`) is narrowed by the file's path."""
        candidates = self.by_top.get(top, [])
        if len(candidates) == 1 or origin is None:
            return candidates
        for info in candidates or self.all:
            rel = _relative(origin, info.base)
            if rel is not None and rel in info.files:
                return [info]
        return candidates

    def editable_owner(self, path: str) -> DistInfo | None:
        """The distribution whose editable/path install folder holds `path`."""
        for info in self.all:
            folder = info.source_dir()
            if folder and _is_under(path, [folder]):
                return info
        return None


def _relative(path: str, base: str) -> str | None:
    if not _is_under(path, [base]):
        return None
    return os.path.relpath(path, base).replace(os.sep, "/")


@dataclass
class Requirement:
    """A distribution the job needs, and the sites that need it."""

    info: DistInfo
    modules: set[str] = field(default_factory=set)
    optional: bool = True


class Probe:
    """Walks local code from the roots and sorts every import into local / stdlib / installed / missing."""

    def __init__(self, request: dict[str, Any]) -> None:
        self.working_dir = _real(request["working_dir"])
        self.roots = [_real(p) for p in request["roots"]]
        self.site_dirs, self.stdlib_dirs = _environment_folders()
        env_dirs = self.site_dirs + self.stdlib_dirs
        local = [os.path.dirname(root) for root in self.roots] + [self.working_dir]
        local += [_real(p) for p in request.get("search_paths", [])]
        self.local_dirs = [d for d in dict.fromkeys(local) if not _is_under(d, env_dirs)]
        self.stdlib = _stdlib_names()
        self._index: DistIndex | None = None
        self.visited: set[str] = set()
        self.queue: list[tuple[str, str]] = [(root, os.path.dirname(root)) for root in self.roots]
        self.module_names: list[str] = list(request.get("module_names", []))
        self.local_modules: dict[str, dict[str, str]] = {}
        self.requirements: dict[str, Requirement] = {}
        self.stdlib_used: dict[str, str] = {}
        self.missing: dict[str, ImportSite] = {}
        self.notes: list[str] = []

    @property
    def index(self) -> DistIndex:
        if self._index is None:
            self._index = DistIndex()
        return self._index

    def label(self, path: str, line: int | None = None) -> str:
        rel = _relative(path, self.working_dir)
        shown = rel if rel is not None else path
        return shown if line is None else shown + ":" + str(line)

    def run(self) -> dict[str, Any]:
        for name in self.module_names:
            self.add_module_name(name)
        while self.queue:
            path, owner = self.queue.pop(0)
            if path not in self.visited:
                self.visited.add(path)
                self.walk_file(path, owner)
        return self.answer()

    def walk_file(self, path: str, owner: str) -> None:
        try:
            with open(path, "rb") as source:
                tree = ast.parse(source.read(), filename=path)
        except SyntaxError as error:
            self.notes.append(
                self.label(path, error.lineno) + ": syntax error, imports not analysed: " + str(error.msg)
            )
            return
        except (OSError, ValueError) as error:
            self.notes.append(self.label(path) + ": cannot be read: " + str(error))
            return
        collector = ImportCollector()
        collector.visit(tree)
        for found in collector.collected.imports:
            site_ = ImportSite(self.label(path, found.line), found.optional)
            if found.level:
                self.resolve_relative(path, owner, found, site_)
            elif found.names:
                # `from pkg import name`: resolution goes as deep as modules exist, so an attribute is fine.
                for name in found.names:
                    self.resolve_absolute(found.module + "." + name, site_)
            elif found.module:
                self.resolve_absolute(found.module, site_)
        for line in collector.collected.dynamic_lines:
            self.notes.append(
                self.label(path, line) + ": dynamic import with a non-literal name: the module "
                "cannot be found statically; add its package to a requirements file if it is "
                "third-party"
            )
        for name, line in collector.collected.script_names:
            self.check_script_name(path, name, line)

    def add_module_name(self, name: str) -> None:
        """A module run by name (`python -m pkg.mod`): resolved like an import of it from the working
        directory, so its package is shipped and walked; a package runs its `__main__` submodule."""
        site_ = ImportSite("cmd (python -m " + name + ")", False)
        self.resolve_absolute(name, site_)
        self.resolve_absolute(name + ".__main__", site_)

    def check_script_name(self, path: str, name: str, line: int) -> None:
        for folder in (os.path.dirname(path), self.working_dir):
            candidate = _real(os.path.join(folder, name))
            if os.path.isfile(candidate) and candidate not in self.roots:
                self.notes.append(
                    self.label(path, line) + ": " + name + " looks like a script started as "
                    "a separate process: add it to env.python.root-paths so its imports are "
                    "analysed"
                )
                return

    # -- local code -----------------------------------------------------------------------------------------

    def ship(self, top_path: str, archive_root: str) -> None:
        if top_path not in self.roots and top_path not in self.local_modules:
            self.local_modules[top_path] = {"path": top_path, "archive_root": archive_root}

    def walk_package_path(self, top_path: str, parts: list[str], owner: str) -> None:
        """Queues the files that `top.parts...` executes: each package's __init__.py, then the module."""
        current = top_path
        if os.path.isfile(current):
            if current.endswith((".py", ".pyw")):
                self.queue.append((current, owner))
            return
        for part in [None, *parts]:
            if part is not None:
                if os.path.isdir(os.path.join(current, part)):
                    current = os.path.join(current, part)
                else:
                    module = self._module_file(current, part)
                    if module:
                        self.queue.append((module, owner))
                    return
            init = os.path.join(current, "__init__.py")
            if os.path.isfile(init):
                self.queue.append((init, owner))

    @staticmethod
    def _module_file(folder: str, name: str) -> str | None:
        for suffix in (".py", ".pyw"):
            candidate = os.path.join(folder, name + suffix)
            if os.path.isfile(candidate):
                return candidate
        return None

    def resolve_relative(self, path: str, owner: str, found: FoundImport, site_: ImportSite) -> None:
        """`from .mod import x` / `from .. import mod`: files relative to the importing file's package."""
        folder = os.path.dirname(path)
        for _ in range(found.level - 1):
            folder = os.path.dirname(folder)
        target: str | None = folder
        for part in [p for p in found.module.split(".") if p]:
            target = self._child(target, part) if target and os.path.isdir(target) else None
            if target is None:
                relative = "." * found.level + found.module
                self.notes.append(f"{site_.where}: relative import '{relative}' does not match a local file")
                return
            self.queue_local(target, owner)
        if target and os.path.isdir(target):
            for name in found.names:
                child = self._child(target, name)
                if child:  # else an attribute of the package
                    self.queue_local(child, owner)

    @classmethod
    def _child(cls, folder: str, name: str) -> str | None:
        """`folder/name` as a package folder or a module file, if either exists."""
        package = os.path.join(folder, name)
        return package if os.path.isdir(package) else cls._module_file(folder, name)

    def queue_local(self, target: str, owner: str) -> None:
        """Ships the top-level item holding `target` (a module file or package folder) and walks it."""
        top = self._top_under(_real(target), owner)
        if top:
            self.ship(top, owner)
        if os.path.isdir(target):
            init = os.path.join(target, "__init__.py")
            if os.path.isfile(init):
                self.queue.append((init, owner))
        elif target.endswith((".py", ".pyw")):
            self.queue.append((target, owner))

    @staticmethod
    def _top_under(path: str, owner: str) -> str | None:
        rel = _relative(path, owner)
        if rel is None or rel == ".":
            return None
        return os.path.join(owner, rel.split("/")[0])

    def resolve_absolute(self, dotted: str, site_: ImportSite) -> None:
        parts = dotted.split(".")
        top = parts[0]
        local = _find_in(top, self.local_dirs)
        if (
            local is not None
            and not _is_namespace(local)
            and local.origin
            and _is_under(_real(local.origin), self.site_dirs + self.stdlib_dirs)
        ):
            local = None
        if self._is_builtin(top):
            if local is not None and not _is_namespace(local):
                self.notes.append(
                    self.label(_real(local.origin or "")) + " is never imported: Python's "
                    "built-in module '" + top + "' always wins"
                )
            self.use_stdlib(top, site_)
        elif local is not None and not _is_namespace(local):
            self.use_local(top, parts, local, site_)
        elif top in self.stdlib:
            self.use_stdlib(top, site_)
        else:
            self.use_environment(top, parts, local, site_)

    @staticmethod
    def _is_builtin(top: str) -> bool:
        if top in sys.builtin_module_names or top in _LOADED_AT_STARTUP or top == "__main__":
            return True
        return importlib.machinery.FrozenImporter.find_spec(top) is not None

    def use_stdlib(self, top: str, site_: ImportSite) -> None:
        self.stdlib_used.setdefault(top, site_.where)

    def use_local(self, top: str, parts: list[str], spec: Any, site_: ImportSite) -> None:
        origin = _real(spec.origin)
        is_package = spec.submodule_search_locations is not None
        top_path = os.path.dirname(origin) if is_package else origin
        owner = os.path.dirname(top_path)
        shadowed = "the standard library" if top in self.stdlib else None
        if shadowed is None and self.index.by_top.get(top):
            shadowed = "the installed distribution " + self.index.by_top[top][0].name
        if shadowed and top_path not in self.local_modules:
            self.notes.append(
                f"{site_.where}: local {self.label(top_path)} shadows '{top}' of {shadowed}"
                " (Python imports the local one)"
            )
        self.ship(top_path, owner)
        self.walk_package_path(top_path, parts[1:], owner)

    def use_environment(self, top: str, parts: list[str], local_ns: Any, site_: ImportSite) -> None:
        spec = self._find_in_environment(top)
        if spec is None and local_ns is None:
            self.add_missing(".".join(parts), site_)
            return
        portions = list(local_ns.submodule_search_locations) if local_ns is not None else []
        if spec is not None and not _is_namespace(spec):
            self.classify(top, parts, spec, site_)
            return
        portions += list(spec.submodule_search_locations or []) if spec is not None else []
        self.use_namespace(top, parts, portions, site_)

    def _find_in_environment(self, top: str) -> Any:
        for finder in sys.meta_path:
            if finder in (importlib.machinery.BuiltinImporter, importlib.machinery.FrozenImporter):
                continue
            find_spec = getattr(finder, "find_spec", None)
            if find_spec is None:
                continue
            try:
                spec = find_spec(top, None)
            except Exception:  # a third-party finder failing must not stop the analysis
                continue
            if spec is not None:
                return spec
        return None

    def use_namespace(self, top: str, parts: list[str], portions: list[str], site_: ImportSite) -> None:
        """A namespace package (no __init__.py): the deeper name decides whose portion it is."""
        local = [
            _real(p)
            for p in portions
            if _is_under(_real(p), self.local_dirs)
            and not _is_under(_real(p), self.site_dirs + self.stdlib_dirs)
        ]
        locations = portions
        for depth in range(1, len(parts)):
            spec = _find_in(".".join(parts[: depth + 1]), locations)
            if spec is None:
                break
            if not _is_namespace(spec):
                origin = _real(spec.origin or "")
                portion = next((p for p in local if _is_under(origin, [p])), None)
                if portion is None:
                    self.classify(top, parts, spec, site_)
                else:
                    self.ship(portion, os.path.dirname(portion))
                    self.walk_package_path(portion, parts[1:], os.path.dirname(portion))
                return
            locations = list(spec.submodule_search_locations or [])
        if local:
            for portion in local:
                self.ship(portion, os.path.dirname(portion))
            return
        owners = self.index.owner(top, None)
        if len(owners) == 1:
            self.add_requirement(owners[0], top, site_)
        elif owners:
            dotted, shared_by = ".".join(parts), ", ".join(sorted(o.name for o in owners))
            self.notes.append(
                f"{site_.where}: '{dotted}' is a namespace shared by {shared_by}: none of them was added"
            )
        else:
            self.add_missing(".".join(parts), site_)

    def classify(self, top: str, parts: list[str], spec: Any, site_: ImportSite) -> None:
        """A regular module found outside the local folders: installed, stdlib, or code elsewhere on disk."""
        origin = _real(spec.origin) if spec.origin not in (None, "built-in", "frozen") else None
        if origin is None or (_is_under(origin, self.stdlib_dirs) and not _is_under(origin, self.site_dirs)):
            self.use_stdlib(top, site_)
            return
        if _is_under(origin, self.site_dirs):
            owners = self.index.owner(top, origin)
            if owners:
                self.add_requirement(owners[0], top, site_)
            else:
                self.notes.append(
                    site_.where + ": '" + top + "' is in site-packages (" + origin + ") but "
                    "belongs to no installed distribution: it cannot be installed from an "
                    "index"
                )
            return
        self.use_external(top, parts, spec, origin, site_)

    def use_external(self, top: str, parts: list[str], spec: Any, origin: str, site_: ImportSite) -> None:
        """Code outside the environment (an editable install, PYTHONPATH): shipped like local code."""
        top_spec = spec if spec.name == top else self._find_in_environment(top)
        top_path = origin
        if top_spec is not None and top_spec.submodule_search_locations:
            top_path = _real(next(iter(top_spec.submodule_search_locations)))
        owner = os.path.dirname(top_path)
        if top_path not in self.local_modules:
            dist = self.index.editable_owner(top_path)
            source = ("an editable install of " + dist.name) if dist else "outside the Python environment"
            self.notes.append(
                f"{site_.where}: '{top}' comes from {source} ({top_path}):"
                " shipped as local code, its own imports analysed"
            )
        self.ship(top_path, owner)
        self.walk_package_path(top_path, parts[1:], owner)

    def add_requirement(self, info: DistInfo, top: str, site_: ImportSite) -> None:
        requirement = self.requirements.setdefault(info.name, Requirement(info))
        requirement.modules.add(top)
        requirement.optional = requirement.optional and site_.optional

    def add_missing(self, dotted: str, site_: ImportSite) -> None:
        top = dotted.split(".")[0]
        known = self.missing.get(top)
        if known is None or (known.optional and not site_.optional):
            self.missing[top] = site_

    def answer(self) -> dict[str, Any]:
        return {
            "version": ".".join(str(v) for v in sys.version_info[:3]),
            "version_info": list(sys.version_info[:2]),
            "executable": sys.executable,
            "requirements": [
                {
                    "name": r.info.name,
                    "version": r.info.version,
                    "modules": sorted(r.modules),
                    "optional": r.optional,
                    "direct_url": r.info.direct_url,
                }
                for r in sorted(self.requirements.values(), key=lambda r: r.info.name.lower())
            ],
            "local_modules": sorted(self.local_modules.values(), key=lambda m: m["path"]),
            "stdlib": [{"name": n, "where": w} for n, w in sorted(self.stdlib_used.items())],
            "missing": [
                {"name": n, "where": s.where, "optional": s.optional} for n, s in sorted(self.missing.items())
            ],
            "notes": self.notes,
        }


def main() -> None:
    """Reads the request from stdin, writes the answer to stdout."""
    request = json.loads(sys.stdin.read())
    json.dump(Probe(request).run(), sys.stdout)


if __name__ == "__main__":
    main()
