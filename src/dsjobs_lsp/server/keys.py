"""The config.yaml key tree as the editor needs it, read from the core's key documentation (`KEY_DOCS`).

Paths are tuples of mapping keys with list items left out (`("output-datasets", "name")`), which is also how
the documentation names keys inside list items.
"""

from __future__ import annotations

from typing import Any

KeyPath = tuple[str, ...]

_MAPPING_TYPES = ("mapping", "list")


def _docs() -> dict[str, Any]:
    from dsjobs_lsp.core.config import KEY_DOCS  # lazy: keeps `initialize` light

    return KEY_DOCS


def dotted(path: KeyPath) -> str:
    """`("env", "python")` -> `env.python`."""
    return ".".join(path)


def child_keys(path: KeyPath) -> list[str]:
    """Keys that may appear directly under `path` (the top level for `()`)."""
    from dsjobs_lsp.core.config import child_keys as core_child_keys

    return list(core_child_keys(dotted(path)))


def value_choices(path: KeyPath) -> list[str]:
    """The allowed values of an enumerated key (also the items of an enumerated list), else []."""
    doc = _docs().get(dotted(path))
    return list(doc.values) if doc is not None else []


def key_doc(path: KeyPath) -> str | None:
    """Markdown documentation of a key: description, type, allowed values, example."""
    doc = _docs().get(dotted(path))
    if doc is None:
        return None
    parts = [doc.description, f"*Type:* {doc.type}"]
    if doc.values:
        parts.append("*Values:* " + ", ".join(f"`{value}`" for value in doc.values))
    if doc.example:
        parts.append(f"```yaml\n{doc.example}\n```")
    return "\n\n".join(parts)


def value_separator(path: KeyPath) -> str:
    """What completion inserts after `key:`: a space for scalar keys, nothing before a nested block."""
    doc = _docs().get(dotted(path))
    if doc is None or doc.type.startswith(_MAPPING_TYPES) or path == ("env", "python"):
        return ""
    return " "
