"""`dsjobs` side by side with the official `datasphere` 0.10.0 CLI on the same local backend daemon.

Both CLIs run as subprocesses in the same project; the reference is pointed at the daemon our CLI started
(`Cli.reference`). What a script reads from them (output files, tables) must be the same.
"""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from tests.support.dsjobs_cli import Cli, job_id_of
from tests.support.reference import reference_python

pytestmark = pytest.mark.reference


@pytest.fixture(scope="module", autouse=True)
def reference_installed() -> None:
    try:
        reference_python()
    except Exception as error:  # the venv is built from the registry on first use
        pytest.skip(f"reference datasphere venv unavailable: {error}")


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


DASH_M_PROJECT = {
    "config.yaml": """
        name: dash-m
        cmd: python -m app.train ${DATA}
        inputs:
          - data.txt: DATA
        env:
          python: auto
    """,
    "data.txt": "hello\n",
    "app/__init__.py": "",
    "app/helpers.py": "def shout(text):\n    return text.upper()\n",
    "app/train.py": """
        import sys

        from app.helpers import shout

        if __name__ == "__main__":
            print("says", shout(open(sys.argv[1]).read().strip()))
    """,
}


def test_python_dash_m_ships_the_package_like_the_reference(cli: Cli, tmp_path: Path) -> None:
    project = write_tree(tmp_path / "dash-m", DASH_M_PROJECT)
    ours = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert ours.returncode == 0, ours.stderr
    assert "says HELLO" in ours.stdout

    theirs = cli.reference(
        "project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml", cwd=project
    )
    assert theirs.returncode == 0, theirs.stderr
    assert "says HELLO" in theirs.stdout + theirs.stderr


FOLDER_PROJECT = {
    "config.yaml": """
        name: folder
        cmd: python list.py ${TREE}
        inputs:
          - tree: TREE
        env:
          python: auto
    """,
    "list.py": """
        import os
        import sys

        if __name__ == "__main__":
            for folder, _, files in os.walk(sys.argv[1]):
                for name in files:
                    print("shipped", os.path.relpath(os.path.join(folder, name), sys.argv[1]))
    """,
    "tree/.git/HEAD": "ref: refs/heads/main\n",
    "tree/node_modules/m/index.js": "x\n",
    "tree/__pycache__/a.cpython-311.pyc": "x\n",
    "tree/.env": "A=1\n",
    "tree/a.csv": "1\n",
}


def shipped(output: str) -> list[str]:
    """The files the job listed (the reference prefixes program lines with a timestamp)."""
    return sorted(re.findall(r"(?m)shipped (\S+)$", output))


def test_a_declared_folder_ships_whole_like_the_reference_with_a_warning(cli: Cli, tmp_path: Path) -> None:
    project = write_tree(tmp_path / "folder", FOLDER_PROJECT)
    ours = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert ours.returncode == 0, ours.stderr
    theirs = cli.reference(
        "project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml", cwd=project
    )
    assert theirs.returncode == 0, theirs.stderr
    expected = [".env", ".git/HEAD", "__pycache__/a.cpython-311.pyc", "a.csv", "node_modules/m/index.js"]
    assert shipped(theirs.stdout + theirs.stderr) == expected, theirs.stdout + theirs.stderr
    assert shipped(ours.stdout) == expected
    assert re.search(r"\[WARNING\] - input folder tree ships whole.*\.git/, node_modules/", ours.stderr)


OUTPUT_PROJECT = {
    "config.yaml": """
        name: outputs
        desc: writes a nested output
        cmd: python write.py ${RES}
        outputs:
          - out/sub/res.txt: RES
        env:
          python: auto
    """,
    "write.py": """
        import os
        import sys

        if __name__ == "__main__":
            os.makedirs(os.path.dirname(sys.argv[1]), exist_ok=True)
            with open(sys.argv[1], "w") as out:
                out.write("result\\n")
    """,
}


def run_outputs_job(cli: Cli, project: Path) -> str:
    write_tree(project, OUTPUT_PROJECT)
    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)
    assert done.returncode == 0, done.stderr
    return job_id_of(done.stderr)


def test_download_files_to_an_output_dir_writes_base_names_like_the_reference(
    cli: Cli, tmp_path: Path
) -> None:
    project = tmp_path / "outputs"
    job_id = run_outputs_job(cli, project)

    for name, run in (("ours", cli.run), ("theirs", cli.reference)):
        got = run("project", "job", "download-files", "--id", job_id, "--output-dir", name, cwd=project)
        assert got.returncode == 0, got.stderr
    assert sorted(p.relative_to(project / "ours").as_posix() for p in (project / "ours").rglob("*")) == [
        "res.txt"
    ]
    assert (project / "ours" / "res.txt").read_text() == (project / "theirs" / "res.txt").read_text()


def test_get_and_list_tables_are_byte_identical_to_the_reference(cli: Cli, tmp_path: Path) -> None:
    project = tmp_path / "outputs"
    job_id = run_outputs_job(cli, project)
    for command in (("get", "--id", job_id), ("list", "-p", LOCAL_PROJECT_ID)):
        tables = {}
        for name, run in (("ours", cli.run), ("theirs", cli.reference)):
            target = tmp_path / f"{command[0]}-{name}.txt"
            got = run("project", "job", *command, "-o", str(target), cwd=project)
            assert got.returncode == 0, got.stderr
            tables[name] = target.read_bytes()
        assert tables["ours"] == tables["theirs"]
        assert job_id.encode() in tables["ours"]
