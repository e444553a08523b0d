"""The official `datasphere` 0.10.0 CLI runs a config with datasets, S3 mounts and output datasets locally."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dsjobs_lsp.backends.local import LOCAL_PROJECT_ID, LocalServer
from tests.support.local_resources import dataset_job_folders
from tests.support.reference_cli import run_reference_cli

pytestmark = pytest.mark.reference

CONFIG = textwrap.dedent("""
    name: datasets
    cmd: cat ${DATA}/a.txt ${BUCKET}/in.txt > ${OUT}/both.txt && cat ${OUT}/both.txt && touch ${BUCKET}/seen
    datasets:
      - {dataset}: DATA
    s3-mounts:
      - {connector}: BUCKET
    output-datasets:
      - name: both
        var: OUT
        size: 1Gb
""")


async def test_reference_cli_runs_a_dataset_config_and_reports_the_created_dataset(
    server: LocalServer, reference: Path, tmp_path: Path
) -> None:
    folders = dataset_job_folders(tmp_path)
    source, bucket, project = folders.source, folders.bucket, folders.project
    dataset = server.engine.resources.create_dataset(LOCAL_PROJECT_ID, "input", source)
    connector = server.engine.resources.create_connector(LOCAL_PROJECT_ID, bucket)
    (project / "config.yaml").write_text(
        CONFIG.replace("{dataset}", dataset.id).replace("{connector}", connector.id)
    )
    execute = ["project", "job", "execute", "-p", LOCAL_PROJECT_ID, "-c", "config.yaml"]

    run = await run_reference_cli(
        server.endpoints.jobs, server.token, execute, cwd=project, launcher_dir=tmp_path
    )

    assert run.returncode == 0, run.output
    assert "from dataset" in run.output and "from bucket" in run.output
    assert (bucket / "seen").exists()
    created = [d for d in server.engine.resources.datasets(LOCAL_PROJECT_ID) if d.name == "both"]
    assert len(created) == 1 and f"{created[0].id} (both) size: 1 Gb" in run.output

    (project / "config.yaml").write_text(f"cmd: cat ${{OLD}}/both.txt\ndatasets:\n  - {created[0].id}: OLD\n")
    second = await run_reference_cli(
        server.endpoints.jobs, server.token, execute, cwd=project, launcher_dir=tmp_path
    )
    assert second.returncode == 0, second.output
    assert "from dataset" in second.output and "from bucket" in second.output
