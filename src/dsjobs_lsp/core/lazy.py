"""Lazy package exports: a name re-exported by a package `__init__` loads its module on first use.

A package declares such names under `if TYPE_CHECKING:` (for type checkers and readers) and sets
`__getattr__ = lazy_exports(__name__, {"module": ("Name", ...)})`; a command that never touches them never
pays for their imports (httpx, the launch form's model, the requirements parser...).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any


def lazy_exports(package: str, exports: Mapping[str, tuple[str, ...]]) -> Callable[[str], Any]:
    """A module-level `__getattr__` for `package` importing each name of `exports` (submodule → names)
    from its submodule when first asked for."""
    home = {name: f"{package}.{module}" for module, names in exports.items() for name in names}

    def __getattr__(name: str) -> Any:
        if name not in home:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(import_module(home[name]), name)

    return __getattr__
