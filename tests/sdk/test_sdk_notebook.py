"""The SDK inside a real Jupyter kernel (ipykernel, driven by nbclient): the kernel's event loop is already
running, so every synchronous call must work anyway; threads and top-level `await` too."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
from nbclient import NotebookClient

from tests.sdk.sweep_project import LEARNING_RATES, expected_loss

CELLS = [
    # a synchronous call while the kernel's loop runs
    """\
import asyncio, json
from concurrent.futures import ThreadPoolExecutor
from dsjobs_lsp import SDK

assert asyncio.get_event_loop().is_running()
sdk = SDK()
base = sdk.run(config="config.yaml")
print("base", base.id, base.done)""",
    f"""\
LEARNING_RATES = {list(LEARNING_RATES)!r}
forks = {{lr: sdk.fork_job(base.id, args={{"LR": lr}}, name=f"lr-{{lr}}") for lr in LEARNING_RATES}}""",
    # the sweep followed from four threads at once
    """\
with ThreadPoolExecutor(max_workers=4) as pool:
    list(pool.map(lambda lr: forks[lr].wait(output_dir=f"runs/{lr}"), LEARNING_RATES))
print("all done", all(job.done for job in forks.values()))""",
    # each fork's outputs into its own folder
    """\
for lr, job in forks.items():
    sdk.download_job_files(job.id, output_dir=f"sweep/{lr}")""",
    # the async twins on the kernel's own loop
    """\
again = await asyncio.gather(*(sdk.aget_job(job.id) for job in forks.values()))
statuses = sorted({job.job.status for job in again})
results = {lr: json.load(open(f"sweep/{lr}/result.json")) for lr in LEARNING_RATES}
print("RESULT", json.dumps({"forks": {lr: j.id for lr, j in forks.items()}, "results": results}))""",
]


def _stream_text(cell: nbformat.NotebookNode, name: str) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []) if out.get("name") == name)


def test_notebook_runs_a_job_sweeps_four_forks_in_parallel_and_downloads_each(
    sdk_env: dict[str, str], project: Path
) -> None:
    notebook = nbformat.v4.new_notebook()  # type: ignore[no-untyped-call]
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in CELLS]  # type: ignore[no-untyped-call]
    client = NotebookClient(
        notebook, timeout=240, kernel_name="python3", resources={"metadata": {"path": str(project)}}
    )

    client.execute()

    first, _, sweep, _, last = notebook.cells
    assert "lr=0.5 loss=0.3000" in _stream_text(first, "stdout"), "the job's log is streamed into the cell"
    assert "job completed successfully" in _stream_text(first, "stderr")
    assert "all done True" in _stream_text(sweep, "stdout")
    summary = json.loads(_stream_text(last, "stdout").split("RESULT ", 1)[1])
    assert len(set(summary["forks"].values())) == 4
    for lr in LEARNING_RATES:
        result = summary["results"][lr]
        assert result["lr"] == float(lr) and abs(result["loss"] - expected_loss(float(lr))) < 1e-9
        assert (project / "sweep" / lr / "result.json").is_file()
        assert json.loads((project / "runs" / lr / "result.json").read_text()) == result
