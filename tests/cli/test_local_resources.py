"""`dsjobs local dataset|s3` as a user runs them, and a dataset job through `dsjobs project job execute`.

Real subprocesses on a private data dir; the daemon the `execute` commands start is stopped (and started again
by the next command) to show that datasets and connectors outlive it.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID
from tests.support.dsjobs_cli import Cli, console, running_cli
from tests.support.local_backend import build_job_venv, stop_local_daemon
from tests.support.local_resources import dataset_job_folders

ID = re.compile(r"^[0-9a-z]{20}$")
OTHER_PROJECT = "otherproject00000000"

CONFIG = textwrap.dedent("""
    name: dataset-job
    cmd: python read.py ${DATA} ${BUCKET} ${OUT}
    datasets:
      - {dataset}: DATA
    s3-mounts:
      - {connector}: BUCKET
    output-datasets:
      - name: copied
        var: OUT
        size: 1Gb
    env:
      python: auto
""")

READ = textwrap.dedent("""
    import pathlib, sys
    data, bucket, out = (pathlib.Path(arg) for arg in sys.argv[1:])
    text = (data / "a.txt").read_text() + (bucket / "in.txt").read_text()
    print(text, end="")
    (out / "both.txt").write_text(text)
    (bucket / "seen.txt").write_text("seen\\n")
""")


@pytest.fixture(scope="module")
def job_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv for the jobs' Python analysis (built once for the module)."""
    return build_job_venv(tmp_path_factory.mktemp("venv")).parent.parent


@pytest.fixture
def cli(tmp_path: Path, job_venv: Path) -> Iterator[Cli]:
    """`dsjobs` on a private data dir; its daemon, if one was started, is stopped at the end."""
    with running_cli(tmp_path, job_venv) as cli:
        yield cli


def created_id(cli: Cli, *args: str, cwd: Path) -> str:
    """Run a `create` command; its stdout is the new ID alone."""
    done = cli.run(*args, cwd=cwd)
    assert done.returncode == 0, done.stderr
    assert ID.match(done.stdout.strip()), done.stdout
    return done.stdout.strip()


def listed(cli: Cli, kind: str, cwd: Path, *extra: str) -> list[dict[str, object]]:
    done = cli.run("local", kind, "list", "--format", "json", *extra, cwd=cwd)
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    return data if isinstance(data, list) else [data]


def test_datasets_and_connectors_are_created_listed_and_deleted_per_project(cli: Cli, tmp_path: Path) -> None:
    source = tmp_path / "source"
    (source / "sub").mkdir(parents=True)
    (source / "a.txt").write_text("12345")
    (source / "sub" / "b.txt").write_text("678")

    dataset = created_id(cli, "local", "dataset", "create", "numbers", "--path", str(source), cwd=tmp_path)
    connector = created_id(cli, "local", "s3", "create", "--path", str(source), cwd=tmp_path)
    (source / "a.txt").write_text("changed later")

    assert listed(cli, "dataset", tmp_path) == [
        {"id": dataset, "name": "numbers", "size": 8, "created_by_job": ""}
    ]
    assert (cli.data_dir / "datasets" / dataset / "a.txt").read_text() == "12345"
    assert listed(cli, "s3", tmp_path) == [{"id": connector, "path": str(source.resolve())}]
    assert listed(cli, "dataset", tmp_path, "-p", OTHER_PROJECT) == []
    table = cli.run("local", "dataset", "list", cwd=tmp_path).stdout.splitlines()
    assert table[0].split() == ["ID", "Name", "Size", "Created", "by", "job"] and table[2].startswith(dataset)

    assert cli.run("local", "dataset", "delete", dataset, cwd=tmp_path).returncode == 0
    assert cli.run("local", "s3", "delete", connector, cwd=tmp_path).returncode == 0
    assert listed(cli, "dataset", tmp_path) == [] and listed(cli, "s3", tmp_path) == []
    assert not (cli.data_dir / "datasets" / dataset).exists() and source.is_dir()


def test_bad_input_is_one_clear_line(cli: Cli, tmp_path: Path) -> None:
    missing = cli.run("local", "dataset", "create", "x", "--path", str(tmp_path / "nowhere"), cwd=tmp_path)
    unknown = cli.run("local", "s3", "delete", "lc000000000000000000", cwd=tmp_path)

    assert missing.returncode == 1
    assert console(missing.stderr) == [
        f"{tmp_path / 'nowhere'} is not a folder; a dataset is made from a folder's content"
    ]
    assert unknown.returncode == 1 and "S3 connector 'lc000000000000000000' does not exist" in unknown.stderr


def test_a_config_naming_an_unknown_dataset_fails_before_the_job_exists(cli: Cli, tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("cmd: cat ${D}/a\ndatasets:\n  - ab000000000000000000: D\n")

    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=tmp_path)

    assert done.returncode == 1
    assert "created job" not in done.stderr
    assert console(done.stderr)[-1].endswith(
        "dataset 'ab000000000000000000' does not exist in project localproject00000000 of the local backend; "
        "create one with `dsjobs local dataset create NAME --path DIR` and use the ID it prints"
    )


def test_a_config_job_reads_a_dataset_and_a_bucket_and_its_output_dataset_outlives_the_daemon(
    cli: Cli, tmp_path: Path
) -> None:
    folders = dataset_job_folders(tmp_path)
    source, bucket, project = folders.source, folders.bucket, folders.project
    dataset = created_id(cli, "local", "dataset", "create", "input", "--path", str(source), cwd=tmp_path)
    connector = created_id(cli, "local", "s3", "create", "--path", str(bucket), cwd=tmp_path)
    (project / "read.py").write_text(READ)
    config = CONFIG.replace("{dataset}", dataset).replace("{connector}", connector)
    (project / "config.yaml").write_text(config)

    done = cli.run("project", "job", "execute", "-c", "config.yaml", cwd=project)

    assert done.returncode == 0, done.stderr
    assert done.stdout == "from dataset\nfrom bucket\n"
    assert (bucket / "seen.txt").read_text() == "seen\n"
    created = [line for line in console(done.stderr) if line.startswith("created dataset ")]
    assert len(created) == 1 and created[0].endswith("(copied) size: 1 Gb"), done.stderr
    output_id = created[0].split()[2]
    stop_local_daemon(cli.data_dir)  # the next command starts a new daemon on the same data dir

    names = {entry["id"]: entry["name"] for entry in listed(cli, "dataset", project)}
    assert names == {dataset: "input", output_id: "copied"}
    (project / "config.yaml").write_text("cmd: cat ${OLD}/both.txt\ndatasets:\n  - " + output_id + ": OLD\n")
    again = cli.run("project", "job", "execute", "-c", "config.yaml", "-p", LOCAL_PROJECT_ID, cwd=project)
    assert again.returncode == 0, again.stderr
    assert again.stdout == "from dataset\nfrom bucket\n"
