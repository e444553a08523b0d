"""Sample projects and real environments for the Python environment analysis tests (helpers).

The sample project is written into a temporary folder. The second environment is a real venv made with
`uv venv`; its packages are real wheels built offline from tiny projects (`uv build`, uv's own build
backend) and installed with `uv pip install --offline --no-index`, so nothing touches the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path
from textwrap import dedent

UV = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
UV_ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never", "UV_NO_CONFIG": "1"}

SAMPLE_REQUIREMENTS = (
    "PyYAML",
    "protobuf",
    "googleapis-common-protos",
    "attrs",
    "httpx",
    "PyJWT",
    "pydantic",
    "grpcio",
    "cattrs",
    "lsprotocol",
)
"""What the sample project (`MAIN_PY` and its helpers) requires, in the analysis's order."""

MAIN_PY = '''\
"""Sample entry file: the analysis must never run it."""
import pathlib
pathlib.Path(__file__).with_name("SIDE_EFFECT").write_text("ran")
import yaml as y
from google.protobuf import message
from google.rpc import status_pb2
import attr
from pkg import helpers
import nsutils.tools
from settings import CONFIG
import importlib, subprocess, sys


def train():
    import httpx
    return httpx


try:
    import ujson_not_installed_xyz
except ImportError:
    ujson_not_installed_xyz = None

try:
    import jwt
except ImportError:
    jwt = None

plugin = importlib.import_module(sys.argv[1])
backend = importlib.import_module("pydantic")
import definitely_missing_mod_xyz
subprocess.run([sys.executable, "worker.py"])
'''

SAMPLE_FILES = {
    "main.py": MAIN_PY,
    "pkg/__init__.py": "from . import sub\nfrom .sub import thing\n",
    "pkg/sub.py": "import grpc\nthing = 1\n",
    "pkg/helpers.py": "from .deep.leaf import VALUE\n",
    "pkg/deep/__init__.py": "",
    "pkg/deep/leaf.py": "from .. import sub\nimport cattrs\nVALUE = 2\n",
    "nsutils/tools.py": "import json\nimport lsprotocol.types\n",
    "settings.py": 'CONFIG = {"lr": 0.1}\n',
    "worker.py": "import deprecated\n",
    "yaml/config.yaml": "lr: 0.1\n",
    "unused_local.py": "import six\n",
}


def main_line(fragment: str) -> int:
    """1-based number of the first line of MAIN_PY containing `fragment`."""
    return next(i for i, line in enumerate(MAIN_PY.splitlines(), start=1) if fragment in line)


def write_files(root: Path, files: dict[str, str]) -> Path:
    """Writes `files` (relative path -> text) under `root`."""
    for relative, text in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def pinned(*names: str) -> list[str]:
    """`name==version` of distributions installed in this interpreter, sorted like the analysis sorts."""
    return sorted((f"{n}=={version(n)}" for n in names), key=str.lower)


@dataclass(frozen=True)
class Wheelhouse:
    """Wheels built offline, and source folders for path and editable installs."""

    wheels: Path
    editable_source: Path
    path_source: Path


def _uv(*args: str) -> None:
    subprocess.run([UV, *args], check=True, env=UV_ENV, capture_output=True, timeout=120)


def _uv_project(root: Path, name: str, version_: str, module: str, code: str = "") -> Path:
    folder = root / name
    package = folder / "src" / Path(*module.split("."))
    package.mkdir(parents=True)
    (package / "__init__.py").write_text(code)
    (folder / "pyproject.toml").write_text(
        dedent(f"""\
        [project]
        name = "{name}"
        version = "{version_}"
        [build-system]
        requires = ["uv_build>=0.5,<1"]
        build-backend = "uv_build"
        [tool.uv.build-backend]
        module-name = "{module}"
        """)
    )
    return folder


def build_wheelhouse(root: Path) -> Wheelhouse:
    """acme-core / acme-extras (sharing the `acme` namespace), torchlike 2.1.0+cpu, an editable and a path
    project."""
    wheels = root / "wheels"
    for name, version_, module in (
        ("acme-core", "1.2.0", "acme.core"),
        ("acme-extras", "0.5.0", "acme.extras"),
        ("torchlike", "2.1.0+cpu", "torchlike"),
    ):
        project = _uv_project(root, name, version_, module)
        _uv("build", "-q", "--offline", "--wheel", "-o", str(wheels), str(project))
    editable = _uv_project(root, "edpkg", "0.3.0", "edpkg", "import acme.core\nfrom . import inner\n")
    (editable / "src" / "edpkg" / "inner.py").write_text("import torchlike\n")
    path_source = _uv_project(root, "pathtool", "0.1.0", "pathtool")
    return Wheelhouse(wheels, editable, path_source)


def make_venv(
    folder: Path, wheelhouse: Wheelhouse, *packages: str, editable: bool = False, path_install: bool = False
) -> Path:
    """A real venv at `folder` with `packages` from the wheelhouse (offline); returns its interpreter."""
    _uv("venv", "-q", "--python", sys.executable, str(folder))
    python = folder / "bin" / "python"
    install = [
        "pip",
        "install",
        "-q",
        "--offline",
        "--no-index",
        "--find-links",
        str(wheelhouse.wheels),
        "--python",
        str(python),
    ]
    if packages:
        _uv(*install, *packages)
    if editable:
        _uv(*install, "-e", str(wheelhouse.editable_source))
    if path_install:
        _uv(*install, str(wheelhouse.path_source))
    return python
