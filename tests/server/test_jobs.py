"""Running, cancelling and attaching jobs through the language server, against the real local backend."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from lsprotocol import types
from pygls.exceptions import JsonRpcException

from tests.server.conftest import Server, ServerFactory, error_data

CHATTY = textwrap.dedent(
    """
    import sys
    for i in range(300):
        print(f"line {i}")
    print("oops", file=sys.stderr)
    with open("result.txt", "w") as out:
        out.write("42\\n")
    """
)

SLOW = textwrap.dedent(
    """
    import time
    print("started", flush=True)
    for i in range(600):
        print(f"tick {i}", flush=True)
        time.sleep(0.1)
    """
)


def write_program(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    program = folder / name
    program.write_text(text)
    return program


async def test_run_file_streams_console_logs_and_outputs(server: Server, tmp_path: Path) -> None:
    program = write_program(tmp_path / "project", "main.py", CHATTY)
    form = await server.command("dsjobs.resolveConfig", {"file": str(program)})
    config = {**form["config"], "outputs": ["result.txt"]}

    result = await server.command("dsjobs.runFile", {"file": str(program), "config": config})
    job_id = result["jobId"]

    end = await server.notes.wait_run_end(job_id)
    assert end["succeeded"] and end["status"] == "SUCCESS" and end["exitCode"] in (0, None)
    final = server.notes.final_job(job_id)
    assert final is not None and final["status"] == "SUCCESS" and final["outputsDownloaded"]
    console = server.notes.console_lines(job_id)
    assert console.index("creating job ...") < console.index(f"created job `{job_id}`")
    assert any(line.startswith("job link: ") for line in console)
    assert server.notes.log_lines(job_id) == [f"line {i}" for i in range(300)]
    assert "oops" in server.notes.log_lines(job_id, "stderr")
    assert len([n for n in server.notes.logs if n["jobId"] == job_id]) < 300  # batched, not one per line
    assert (program.parent / "result.txt").read_text() == "42\n"
    tokens = {
        token: reports
        for token, reports in server.client.progress_reports.items()
        if str(token).startswith("dsjobs/")
    }
    assert tokens, "no work-done progress was created"
    for reports in tokens.values():
        assert isinstance(reports[0], types.WorkDoneProgressBegin)
        assert isinstance(reports[-1], types.WorkDoneProgressEnd)
    assert any(
        message.type.name == "Info" and job_id in message.message for message in server.client.messages
    )


async def test_a_failing_program_is_reported_to_the_user(server: Server, tmp_path: Path) -> None:
    program = write_program(tmp_path / "project", "fail.py", "import sys\nprint('bye')\nsys.exit(3)\n")
    form = await server.command("dsjobs.resolveConfig", {"file": str(program)})

    job_id = (await server.command("dsjobs.runFile", {"file": str(program), "config": form["config"]}))[
        "jobId"
    ]

    end = await server.notes.wait_run_end(job_id)
    assert not end["succeeded"] and end["exitCode"] == 3
    errors = [n["line"] for n in server.notes.console if n["jobId"] == job_id and n["level"] == "error"]
    assert any("3" in line for line in errors)
    shown = [m.message for m in server.client.messages if m.type.name == "Error"]
    assert any(job_id in message and "exit code 3" in message for message in shown)


async def test_run_file_rejects_an_invalid_form_with_field_errors(server: Server, tmp_path: Path) -> None:
    program = write_program(tmp_path / "project", "main.py", "print('hi')\n")

    with pytest.raises(JsonRpcException) as caught:
        await server.command(
            "dsjobs.runFile",
            {"file": str(program), "config": {"program": "main.py", "inputs": ["x=bad var"]}},
        )

    assert "inputs" in caught.value.message
    assert error_data(caught.value)["kind"] == "config"


async def test_cancel_stops_a_running_job(server: Server, tmp_path: Path) -> None:
    program = write_program(tmp_path / "project", "slow.py", SLOW)
    form = await server.command("dsjobs.resolveConfig", {"file": str(program)})
    job_id = (await server.command("dsjobs.runFile", {"file": str(program), "config": form["config"]}))[
        "jobId"
    ]
    await server.notes.wait_for(lambda: "started" in server.notes.log_lines(job_id))

    answer = await server.command("dsjobs.cancel", {"jobId": job_id})

    assert answer["jobId"] == job_id
    end = await server.notes.wait_run_end(job_id)
    assert end["status"] == "CANCELLED" and not end["succeeded"]
    assert server.notes.final_job(job_id)["status"] == "CANCELLED"  # type: ignore[index]


async def test_attach_and_history_survive_a_server_restart(lsp: ServerFactory, tmp_path: Path) -> None:
    first = await lsp.start()
    program = write_program(tmp_path / "project", "slow.py", SLOW.replace("range(600)", "range(40)"))
    form = await first.command("dsjobs.resolveConfig", {"file": str(program)})
    job_id = (await first.command("dsjobs.runFile", {"file": str(program), "config": form["config"]}))[
        "jobId"
    ]
    await first.notes.wait_for(lambda: "tick 15" in first.notes.log_lines(job_id))
    seen_before = first.notes.log_lines(job_id)
    await lsp.stop(first)

    second = await lsp.start()
    history = await second.command("dsjobs.history", {})
    assert job_id in [job["id"] for job in history["jobs"]]

    attached = await second.command("dsjobs.attach", {"jobId": job_id})
    assert attached["jobId"] == job_id
    await second.notes.wait_run_end(job_id)

    resumed = second.notes.log_lines(job_id)
    everything = ["started", *[f"tick {i}" for i in range(40)]]
    assert resumed == everything[len(everything) - len(resumed) :]  # in order, through the end
    assert "started" not in resumed  # resumed from the saved offset, not from the start
    assert len(seen_before) + len(resumed) >= len(everything)  # nothing lost in between
    link = await second.command("dsjobs.jobLink", {"jobId": job_id})
    assert link["link"] and job_id in link["link"]


async def test_attach_follows_the_cli_rules_whole_log_outputs_and_exit_code(
    server: Server, tmp_path: Path
) -> None:
    program = write_program(tmp_path / "project", "main.py", CHATTY + "\nraise SystemExit(3)\n")
    form = await server.command("dsjobs.resolveConfig", {"file": str(program)})
    config = {**form["config"], "outputs": ["result.txt"]}
    job_id = (await server.command("dsjobs.runFile", {"file": str(program), "config": config}))["jobId"]
    await server.notes.wait_run_end(job_id)
    (program.parent / "result.txt").unlink()

    await server.command("dsjobs.attach", {"jobId": job_id})
    await server.notes.wait_for(lambda: len([n for n in server.notes.ended if n["jobId"] == job_id]) == 2)

    lines = [f"line {i}" for i in range(300)]
    assert server.notes.log_lines(job_id) == lines + lines, "a job followed to its end shows its whole log"
    assert (program.parent / "result.txt").read_text() == "42\n", "a missing output is downloaded again"
    ends = [n for n in server.notes.ended if n["jobId"] == job_id]
    assert [end["exitCode"] for end in ends] == [3, 3]
