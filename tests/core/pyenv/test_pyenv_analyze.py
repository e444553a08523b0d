"""`analyze_python_env` on sample projects, in this interpreter and in real venvs made by the tests."""

from __future__ import annotations

import ast
import asyncio
import os
import sys
from pathlib import Path

import pytest

from dsjobs_lsp.core.pyenv import (
    LocalModule,
    PipOptions,
    PythonEnvError,
    PythonSettings,
    analyze_python_env,
)
from tests.core.pyenv.pyenv_samples import (
    SAMPLE_REQUIREMENTS,
    Wheelhouse,
    main_line,
    make_venv,
    pinned,
    write_files,
)

MAIN = [Path("main.py")]
HERE_PYTHON = Path(sys.executable)


def _local(project: Path, *names: str) -> list[LocalModule]:
    return [LocalModule(project / name, project) for name in names]


def _has(warnings: list[str], *fragments: str) -> bool:
    return any(all(f in w for f in fragments) for w in warnings)


async def test_sample_project_requirements_local_modules_and_warnings(sample_project: Path) -> None:
    analysis = await analyze_python_env(MAIN, working_dir=sample_project, interpreter=HERE_PYTHON)

    assert analysis.requirements == pinned(*SAMPLE_REQUIREMENTS)
    assert analysis.optional_requirements == pinned("PyJWT")
    # The entry file is an input, a folder of YAML files is no package, an unimported module is not shipped.
    assert analysis.local_modules == _local(sample_project, "nsutils", "pkg", "settings.py")
    assert analysis.python_version == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert analysis.pip_options is None
    assert _has(analysis.warnings, f"main.py:{main_line('sys.argv[1]')}", "dynamic import")
    assert _has(
        analysis.warnings,
        f"main.py:{main_line('import definitely_missing')}",
        "'definitely_missing_mod_xyz'",
        "neither local code nor installed",
    )
    assert _has(analysis.warnings, f"main.py:{main_line('import ujson')}", "optional import")
    assert _has(analysis.warnings, f"main.py:{main_line('worker.py')}", "worker.py", "root-paths")
    assert len(analysis.warnings) == 4, analysis.warnings


async def test_user_code_never_runs(sample_project: Path) -> None:
    await analyze_python_env([Path("main.py")], working_dir=sample_project, interpreter=HERE_PYTHON)
    assert not (sample_project / "SIDE_EFFECT").exists()


async def test_root_paths_add_a_script_run_in_a_subprocess(sample_project: Path) -> None:
    settings = PythonSettings(root_paths=("worker.py",))
    analysis = await analyze_python_env(
        MAIN, working_dir=sample_project, interpreter=HERE_PYTHON, python=settings
    )
    assert analysis.requirements == pinned(*SAMPLE_REQUIREMENTS, "Deprecated")
    assert not _has(analysis.warnings, "root-paths")  # the hint disappears once the script is a root
    assert LocalModule(sample_project / "worker.py", sample_project) not in analysis.local_modules


async def test_other_interpreter_gives_its_own_answer(tmp_path: Path, other_venv: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": "import yaml\nimport acme.core\nfrom acme import extras\nimport torchlike\n"
            "import edpkg\nimport pathtool\n",
        },
    )
    here = await analyze_python_env([Path("main.py")], working_dir=project, interpreter=HERE_PYTHON)
    there = await analyze_python_env([Path("main.py")], working_dir=project, interpreter=other_venv)

    assert here.requirements == pinned("PyYAML")
    assert there.requirements == [
        "acme-core==1.2.0",
        "acme-extras==0.5.0",
        "pathtool==0.1.0",
        "torchlike==2.1.0",
    ]
    assert there.interpreter == other_venv
    assert _has(there.warnings, "main.py:1", "'yaml'", "neither local code nor installed")
    assert _has(there.warnings, "torchlike==2.1.0+cpu", "local version label '+cpu'")
    assert _has(there.warnings, "pathtool was installed from file://", "may not exist on the package index")
    # The editable install is shipped as local code and its own imports (acme, torchlike) are analysed.
    source = Path(_source_of(there.warnings))
    assert there.local_modules == [LocalModule(source, source.parent)]
    assert source.name == "edpkg" and (source / "inner.py").is_file()


def _source_of(warnings: list[str]) -> str:
    line = next(w for w in warnings if "editable install of edpkg" in w)
    return line.split("(", 1)[1].split(")", 1)[0]


async def test_default_interpreter_is_the_projects_dot_venv(tmp_path: Path, wheelhouse: Wheelhouse) -> None:
    project = write_files(tmp_path / "p", {"main.py": "import acme.core\nimport yaml\n"})
    make_venv(project / ".venv", wheelhouse, "acme-core")
    analysis = await analyze_python_env([Path("main.py")], working_dir=project)
    assert analysis.interpreter == project / ".venv" / "bin" / "python"
    assert analysis.requirements == ["acme-core==1.2.0"]
    assert analysis.local_modules == []


async def test_local_modules_shadowing_installed_and_stdlib_names(tmp_path: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": "import yaml\nimport logging\nimport os\nimport attr\n",
            "yaml.py": "X = 1\n",
            "logging.py": "Y = 2\n",
            "os.py": "Z = 3\n",
            "attr/config.json": "{}\n",
        },
    )
    analysis = await analyze_python_env([Path("main.py")], working_dir=project, interpreter=HERE_PYTHON)
    assert analysis.local_modules == _local(project, "logging.py", "yaml.py")
    assert analysis.requirements == pinned("attrs")  # a folder without __init__.py shadows nothing
    assert _has(analysis.warnings, "main.py:1", "yaml.py shadows 'yaml' of the installed distribution PyYAML")
    assert _has(analysis.warnings, "main.py:2", "logging.py shadows 'logging' of the standard library")
    assert _has(analysis.warnings, "os.py is never imported")


async def test_syntax_error_in_local_module_is_reported_and_the_rest_analysed(tmp_path: Path) -> None:
    project = write_files(tmp_path, {"main.py": "import broken\nimport yaml\n", "broken.py": "def f(:\n"})
    analysis = await analyze_python_env([Path("main.py")], working_dir=project, interpreter=HERE_PYTHON)
    assert analysis.requirements == pinned("PyYAML")
    assert analysis.local_modules == _local(project, "broken.py")
    assert _has(analysis.warnings, "broken.py:1", "syntax error")


async def test_type_checking_imports_are_not_requirements(tmp_path: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import httpx\n"
                "else:\n    import yaml\n"
                "from contextlib import suppress\nwith suppress(ImportError):\n    import attr\n"
            )
        },
    )
    analysis = await analyze_python_env([Path("main.py")], working_dir=project, interpreter=HERE_PYTHON)
    assert analysis.requirements == pinned("attrs", "PyYAML")
    assert analysis.optional_requirements == pinned("attrs")


async def test_manual_mode_reads_the_requirements_file(tmp_path: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": "import yaml\nimport attr\n",
            "requirements.txt": "# pinned by hand\nPyYAML==6.0.1  # the one the cluster has\n\n"
            "--extra-index-url https://pypi.example/simple\n--no-deps\n",
            "lib/util.py": "",
        },
    )
    settings = PythonSettings(
        type="manual",
        version="3.10.4",
        requirements_file="requirements.txt",
        pip=PipOptions(trusted_hosts=("pypi.example",)),
    )
    analysis = await analyze_python_env(
        [Path("main.py")], working_dir=project, interpreter=HERE_PYTHON, python=settings
    )
    assert analysis.requirements == ["PyYAML==6.0.1"]
    assert analysis.python_version == "3.10"
    assert analysis.pip_options == PipOptions(
        extra_index_urls=("https://pypi.example/simple",), trusted_hosts=("pypi.example",), no_deps=True
    )
    assert _has(analysis.warnings, "3.10.4 is reduced to 3.10")
    assert _has(analysis.warnings, "does not list", f"attrs=={pinned('attrs')[0].split('==')[1]}")


async def test_fully_manual_mode_runs_nothing(tmp_path: Path) -> None:
    project = write_files(tmp_path, {"main.py": "import yaml\n", "reqs.txt": "pyyaml\n", "lib/util.py": ""})
    settings = PythonSettings(
        type="manual", version="3.9", requirements_file="reqs.txt", local_paths=("lib",)
    )
    analysis = await analyze_python_env(
        [Path("main.py")], working_dir=project, interpreter=tmp_path / "no-such-python", python=settings
    )
    assert analysis.requirements == ["pyyaml"]
    assert analysis.python_version == "3.9"
    assert analysis.local_modules == [LocalModule(project / "lib", project)]
    assert analysis.warnings == []


async def test_stdlib_module_gone_on_the_target_python(tmp_path: Path) -> None:
    project = write_files(tmp_path, {"main.py": "import asyncore\nimport tomllib\n"})
    settings = PythonSettings(type="manual", version="3.12", requirements_file="")
    analysis = await analyze_python_env(
        [Path("main.py")], working_dir=project, interpreter=HERE_PYTHON, python=settings
    )
    assert analysis.python_version == "3.12"
    assert _has(
        analysis.warnings, "main.py:1", "'asyncore'", "removed from the standard library in Python 3.12"
    )
    assert not _has(analysis.warnings, "tomllib")


@pytest.mark.parametrize(
    ("settings", "key"),
    [
        (PythonSettings(root_paths=("nope.py",)), "env.python.root-paths: nope.py"),
        (
            PythonSettings(type="manual", requirements_file="nope.txt"),
            "env.python.requirements-file: nope.txt",
        ),
        (PythonSettings(type="manual", local_paths=("nope",)), "env.python.local-paths: nope"),
        (PythonSettings(type="manual", version="python3"), "env.python.version"),
    ],
)
async def test_bad_settings_name_the_key(tmp_path: Path, settings: PythonSettings, key: str) -> None:
    write_files(tmp_path, {"main.py": ""})
    with pytest.raises(PythonEnvError, match=key):
        await analyze_python_env(
            [Path("main.py")], working_dir=tmp_path, interpreter=HERE_PYTHON, python=settings
        )


async def test_missing_entry_and_missing_interpreter_are_clear_errors(tmp_path: Path) -> None:
    write_files(tmp_path, {"main.py": ""})
    with pytest.raises(PythonEnvError, match=r"entry file other\.py not found"):
        await analyze_python_env([Path("other.py")], working_dir=tmp_path, interpreter=HERE_PYTHON)
    with pytest.raises(PythonEnvError, match="cannot start the Python interpreter"):
        await analyze_python_env([Path("main.py")], working_dir=tmp_path, interpreter=tmp_path / "nopython")


async def test_failing_interpreter_reports_its_exit_code(tmp_path: Path) -> None:
    write_files(tmp_path, {"main.py": ""})
    broken = tmp_path / "python"
    broken.write_text("#!/bin/sh\necho 'ImportError: broken site' >&2\nexit 3\n")
    broken.chmod(0o755)
    with pytest.raises(PythonEnvError, match=r"exit code 3.*broken site"):
        await analyze_python_env([Path("main.py")], working_dir=tmp_path, interpreter=broken)


async def test_cancelling_the_analysis_kills_the_interpreter(tmp_path: Path) -> None:
    write_files(tmp_path, {"main.py": ""})
    slow = tmp_path / "python"
    pid_file = tmp_path / "pid"
    slow.write_text(f"#!/bin/sh\necho $$ > {pid_file}\nexec sleep 60\n")
    slow.chmod(0o755)
    task = asyncio.create_task(analyze_python_env([Path("main.py")], working_dir=tmp_path, interpreter=slow))
    for _ in range(200):
        if pid_file.exists() and pid_file.read_text().strip():
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    pid = int(pid_file.read_text())
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


async def test_relative_imports_of_attributes_and_missing_modules(tmp_path: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": "from pkg import a\n",
            "pkg/__init__.py": "VALUE = 1\n",
            "pkg/a.py": "from . import VALUE\nfrom .b import helper\nfrom .gone import x\n",
            "pkg/b.py": "import yaml\ndef helper():\n    pass\n",
        },
    )
    analysis = await analyze_python_env(MAIN, working_dir=project, interpreter=HERE_PYTHON)
    assert analysis.requirements == pinned("PyYAML")
    assert analysis.local_modules == _local(project, "pkg")
    assert analysis.warnings == ["pkg/a.py:3: relative import '.gone' does not match a local file"]


async def test_local_portion_of_an_installed_namespace(tmp_path: Path, other_venv: Path) -> None:
    project = write_files(
        tmp_path,
        {
            "main.py": "import acme.core\nfrom acme import mine\n",
            "acme/mine.py": "import torchlike\n",
        },
    )
    analysis = await analyze_python_env(MAIN, working_dir=project, interpreter=other_venv)
    assert analysis.requirements == ["acme-core==1.2.0", "torchlike==2.1.0"]
    assert analysis.local_modules == _local(project, "acme")


def test_probe_stays_python_38_compatible() -> None:
    """The probe runs in the user's interpreter; the service supports Python 3.8, so must the probe."""
    from dsjobs_lsp.core.pyenv.interpreter import PROBE_SCRIPT

    source = PROBE_SCRIPT.read_text()
    ast.parse(source, feature_version=(3, 8))
    newer_apis = ("removeprefix", "removesuffix", "functools.cache", "strict=", "ast.unparse")
    assert [api for api in newer_apis if api in source] == []


async def test_modules_run_with_dash_m_are_shipped_with_what_they_import(tmp_path: Path) -> None:
    project = write_files(
        tmp_path / "project",
        {
            "app/__init__.py": "",
            "app/train.py": "import yaml\nfrom app.helpers import scale\nimport tools\n",
            "app/helpers.py": "def scale(x):\n    return x\n",
            "tools.py": "import json\n",
            "cli/__init__.py": "",
            "cli/__main__.py": "import extra\n",
            "extra/__init__.py": "",
            "unused.py": "import attr\n",
        },
    )
    analysis = await analyze_python_env(
        [], working_dir=project, interpreter=HERE_PYTHON, module_names=["app.train", "cli"]
    )

    assert analysis.local_modules == _local(project, "app", "cli", "extra", "tools.py")
    assert [line.split("==")[0] for line in analysis.requirements] == ["PyYAML"]
    assert analysis.warnings == []


async def test_a_module_run_with_dash_m_that_exists_nowhere_is_a_warning(tmp_path: Path) -> None:
    project = write_files(tmp_path / "project", {"main.py": ""})
    analysis = await analyze_python_env(
        [], working_dir=project, interpreter=HERE_PYTHON, module_names=["nosuchpkg_xyz.mod"]
    )
    assert analysis.local_modules == []
    assert _has(analysis.warnings, "python -m nosuchpkg_xyz.mod", "'nosuchpkg_xyz'")


async def test_dsjobs_python_names_the_users_interpreter_when_the_folder_has_no_venv(
    tmp_path: Path, wheelhouse: Wheelhouse, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The VS Code extension runs the server in a private environment and names the user's Python this way.
    project = write_files(tmp_path / "p", {"main.py": "import acme.core\n"})
    user_python = make_venv(tmp_path / "user-venv", wheelhouse, "acme-core")
    monkeypatch.delenv("VIRTUAL_ENV", raising=False)
    monkeypatch.setenv("DSJOBS_PYTHON", str(user_python))
    analysis = await analyze_python_env([Path("main.py")], working_dir=project)
    assert analysis.interpreter == user_python
    assert analysis.requirements == ["acme-core==1.2.0"]


def test_the_probe_of_stdlib_only_code_does_not_load_package_metadata(tmp_path: Path) -> None:
    """importlib.metadata (about a third of the probe's run) is imported only to map installed packages."""
    import json
    import subprocess

    from dsjobs_lsp.core.pyenv.interpreter import PROBE_SCRIPT

    project = write_files(tmp_path, {"main.py": "import os\nimport json\n"})
    request = {"working_dir": str(project), "roots": [str(project / "main.py")], "module_names": []}
    done = subprocess.run(
        [sys.executable, "-B", "-X", "importtime", str(PROBE_SCRIPT)],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        check=True,
    )
    assert json.loads(done.stdout)["requirements"] == []
    assert " importlib.metadata\n" not in done.stderr
