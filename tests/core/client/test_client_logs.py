"""Log lines keep the order the job wrote them across sources."""

from __future__ import annotations

from yandex.cloud.datasphere.v2.jobs import project_job_service_pb2 as pb

from dsjobs_lsp.core.client.logs import LineSplitter, _chunks_of


def test_lines_of_different_sources_keep_their_written_order() -> None:
    response = pb.ReadProjectJobLogsResponse(
        offset=10,
        logs=[
            pb.LogMessage(file_path=".system.log", content=b"job process started\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"hello\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"again\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.ERR, content=b"warn\n"),
            pb.LogMessage(file_path=".system.log", content=b"the job process exited\n"),
        ],
    )
    chunks = _chunks_of(response, LineSplitter())
    assert [(c.stream, c.lines) for c in chunks] == [
        ("system", ["job process started"]),
        ("stdout", ["hello", "again"]),
        ("stderr", ["warn"]),
        ("system", ["the job process exited"]),
    ]
