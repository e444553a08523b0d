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
    chunks = _chunks_of(response, LineSplitter(), 4)
    assert [(c.stream, c.lines, c.offset) for c in chunks] == [
        ("system", ["job process started"], 4),
        ("stdout", ["hello", "again"], 4),
        ("stderr", ["warn"], 4),
        ("system", ["the job process exited"], 10),
    ], "only the last chunk of a response may say its lines are all shown"


def test_a_message_of_many_lines_splits_into_lines_keeping_blank_ones() -> None:
    response = pb.ReadProjectJobLogsResponse(
        offset=30,
        logs=[
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"one\n\n  three\r\nfour\n"),
            pb.LogMessage(standard_stream=pb.StandardStream.OUT, content=b"five\n"),
        ],
    )
    [chunk] = _chunks_of(response, LineSplitter(), 0)
    assert chunk.lines == ["one", "", "  three", "four", "five"]
