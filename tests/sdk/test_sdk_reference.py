"""The reference's public SDK surface is ours, and `import dsjobs_lsp` stays cheap.

datasphere 0.10.0 `sdk.py` is read from the cached reference venv: same methods, same parameter names,
order and defaults.
"""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from typing import Any

import pytest

from dsjobs_lsp.sdk import SDK, Job
from tests.support.reference import reference_venv

SDK_METHODS = ("__init__", "fork_job", "get_job", "download_job_files", "connect_to_spark")
WRAPPER_NAMES = ("id", "operation_id", "done", "wait", "job", "job_id")


def _reference_classes() -> dict[str, ast.ClassDef]:
    sources = list(reference_venv().glob("lib/python*/site-packages/datasphere/sdk.py"))
    assert len(sources) == 1, sources
    tree = ast.parse(sources[0].read_text())
    return {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}


def _reference_parameters(function: ast.FunctionDef) -> list[tuple[str, Any]]:
    arguments = function.args
    names = [a.arg for a in arguments.args]
    defaults = [
        "<f-string>" if isinstance(d, ast.JoinedStr) else ast.literal_eval(d) for d in arguments.defaults
    ]
    padded = [inspect.Parameter.empty] * (len(names) - len(defaults)) + defaults
    return list(zip(names, padded, strict=True))


def _our_parameters(function: Any, count: int) -> list[tuple[str, Any]]:
    parameters = list(inspect.signature(function).parameters.values())[:count]
    return [(p.name, p.default) for p in parameters]


@pytest.mark.reference
@pytest.mark.parametrize("method", SDK_METHODS)
def test_sdk_methods_take_the_reference_parameters(method: str) -> None:
    reference = {f.name: f for f in _reference_classes()["SDK"].body if isinstance(f, ast.FunctionDef)}
    expected = _reference_parameters(reference[method])
    ours = _our_parameters(getattr(SDK, method), len(expected))
    if method == "__init__":  # the user agent default embeds the reference's version
        expected = [(n, None if d == "<f-string>" else d) for n, d in expected]
    assert ours == expected


@pytest.mark.reference
def test_job_has_the_reference_wrapper_names() -> None:
    wrapper = _reference_classes()["JobWrapper"]
    names = {f.name for f in wrapper.body if isinstance(f, ast.FunctionDef)}
    assert set(WRAPPER_NAMES) - {"job", "job_id"} <= names
    job = Job(object.__new__(SDK), "jobid00000000000000")
    assert set(WRAPPER_NAMES) <= set(dir(job))


def test_importing_the_package_does_not_load_the_sdk() -> None:
    code = (
        "import sys, dsjobs_lsp\n"
        "assert 'dsjobs_lsp.sdk' not in sys.modules and 'grpc' not in sys.modules\n"
        "from dsjobs_lsp import SDK, JobFailedError\n"
        "import dsjobs_lsp.sdk\n"
        "assert SDK is dsjobs_lsp.sdk.SDK and JobFailedError is dsjobs_lsp.sdk.JobFailedError\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.returncode == 0, done.stderr
