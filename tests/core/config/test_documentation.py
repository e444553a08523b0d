"""Key documentation used for hover and completion covers every key the parser reads."""

from __future__ import annotations

import json
from pathlib import Path

from dsjobs_lsp.core.config import INSTANCE_TYPES, KEY_DOCS, child_keys
from dsjobs_lsp.core.config.parse_env import DOCKER_KEYS, ENV_KEYS, PIP_KEYS, PYTHON_KEYS
from dsjobs_lsp.core.config.parser import TOP_LEVEL_KEYS


def test_every_parsed_key_is_documented() -> None:
    keys = [
        *TOP_LEVEL_KEYS,
        *(f"env.{k}" for k in ENV_KEYS),
        *(f"env.docker.{k}" for k in DOCKER_KEYS),
        *(f"env.python.{k}" for k in PYTHON_KEYS),
        *(f"env.python.pip.{k}" for k in PIP_KEYS),
    ]
    missing = [key for key in keys if key not in KEY_DOCS]
    assert missing == []
    assert all(len(doc.description) > 10 and doc.type for doc in KEY_DOCS.values())


def test_enums_and_completion() -> None:
    assert KEY_DOCS["cloud-instance-types"].values == INSTANCE_TYPES
    assert "gt4i.1" in INSTANCE_TYPES and "c1.4" in INSTANCE_TYPES
    assert KEY_DOCS["env.python.type"].values == ("auto", "manual")
    assert child_keys("env.python.pip") == ["index-url", "extra-index-urls", "trusted-hosts", "no-deps"]
    assert child_keys("")[:3] == ["name", "desc", "cmd"]


def test_vscode_manifest_offers_the_same_instance_types() -> None:
    """The extension's static manifest (launch.json attributes) must list the types the core validates."""
    manifest = json.loads((Path(__file__).parents[3] / "vscode-client" / "package.json").read_text())
    [debugger] = manifest["contributes"]["debuggers"]
    attribute = debugger["configurationAttributes"]["launch"]["properties"]["instanceType"]
    assert tuple(attribute["enum"]) == tuple(INSTANCE_TYPES)
