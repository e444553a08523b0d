import assert from "node:assert/strict";
import { afterEach, beforeEach, describe, it, mock } from "node:test";
import type { ProgressParams, ProgressStage, RunEndedParams } from "../../src/protocol";
import { IDLE_CLOSE_MS, ProgressBoard, SHOW_AFTER_MS, type ProgressBar } from "../../src/run/progressModel";
import { OutcomeLines } from "../../src/run/outcomeLines";
import { job } from "./fixtures";

interface ScreenBar {
  title: string;
  reports: { message?: string; increment?: number }[];
  open: boolean;
}

/** What the user sees: every bar ever opened, with its reports and whether it is still on screen. */
function screen(): { bars: ScreenBar[]; openBar: (title: string) => ProgressBar; openTitles(): string[] } {
  const bars: ScreenBar[] = [];
  return {
    bars,
    openBar: (title) => {
      const bar: ScreenBar = { title, reports: [], open: true };
      bars.push(bar);
      return { report: (value) => bar.reports.push(value), close: () => (bar.open = false) };
    },
    openTitles: () => bars.filter((bar) => bar.open).map((bar) => bar.title),
  };
}

function progress(stage: ProgressStage, done: number, total: number | null, finished = false, runId = "run-1"): ProgressParams {
  const percent = total ? Math.floor((done * 100) / total) : null;
  return { jobId: stage === "analysis" || stage === "packaging" ? null : "job-1", runId, stage, message: total ? `${done}B / ${total}B` : "", done, total, percent, finished };
}

describe("progress notifications of a run", () => {
  beforeEach(() => mock.timers.enable({ apis: ["setTimeout"] }));
  afterEach(() => mock.timers.reset());

  it("shows a lasting stage with its percent and closes it when the stage finishes", () => {
    const ui = screen();
    const board = new ProgressBoard(ui.openBar);
    board.update(progress("upload", 16, 234));
    mock.timers.tick(SHOW_AFTER_MS);
    board.update(progress("upload", 117, 234));
    assert.deepEqual(ui.openTitles(), ["DataSphere Jobs: uploading files"]);
    assert.deepEqual(ui.bars[0]?.reports, [
      { message: "16B / 234B — 6%", increment: 6 },
      { message: "117B / 234B — 50%", increment: 44 },
    ]);
    board.update(progress("upload", 234, 234, true));
    assert.deepEqual(ui.openTitles(), []);
  });

  it("never flashes a stage that finishes at once", () => {
    const ui = screen();
    const board = new ProgressBoard(ui.openBar);
    board.update(progress("upload", 16, 234));
    board.update(progress("upload", 234, 234));
    board.update(progress("upload", 234, 234, true));
    mock.timers.tick(SHOW_AFTER_MS * 4);
    assert.equal(ui.bars.length, 0);
  });

  it("does not reopen a finished stage on a late report, and shows each stage once", () => {
    const ui = screen();
    const board = new ProgressBoard(ui.openBar);
    board.update(progress("upload", 16, 234));
    mock.timers.tick(SHOW_AFTER_MS);
    board.update(progress("upload", 234, 234, true));
    board.update(progress("upload", 16, 234));
    mock.timers.tick(SHOW_AFTER_MS);
    assert.deepEqual(ui.bars.map((bar) => bar.title), ["DataSphere Jobs: uploading files"]);
    assert.deepEqual(ui.openTitles(), []);
  });

  it("closes a stage when the run's next stage starts, the job ends or the run ends", () => {
    const ui = screen();
    const board = new ProgressBoard(ui.openBar);
    board.update(progress("packaging", 0, null));
    mock.timers.tick(SHOW_AFTER_MS);
    board.update(progress("upload", 1, 10));
    mock.timers.tick(SHOW_AFTER_MS);
    assert.deepEqual(ui.openTitles(), ["DataSphere Jobs: uploading files"], "packaging closed by the upload");
    board.jobEnded("job-1");
    assert.deepEqual(ui.openTitles(), []);
    board.update(progress("download", 1, 10));
    mock.timers.tick(SHOW_AFTER_MS);
    board.runEnded("run-1");
    board.update(progress("download", 5, 10));
    mock.timers.tick(SHOW_AFTER_MS);
    assert.deepEqual(ui.openTitles(), [], "nothing stays open, nor reopens, after the run ends");
  });

  it("keeps runs apart and closes a bar that went silent", () => {
    const ui = screen();
    const board = new ProgressBoard(ui.openBar);
    board.update(progress("upload", 1, 10, false, "run-1"));
    board.update(progress("upload", 1, 10, false, "run-2"));
    mock.timers.tick(SHOW_AFTER_MS);
    board.update(progress("upload", 10, 10, true, "run-2"));
    assert.equal(ui.openTitles().length, 1, "run-1's upload is still going");
    mock.timers.tick(IDLE_CLOSE_MS);
    assert.equal(board.visibleCount, 0);
  });
});

describe("Toolkit channel outcome lines", () => {
  const ended = (runId: string): RunEndedParams => ({ runId, jobId: "job-1", status: "SUCCESS", exitCode: 0, succeeded: true, error: null });

  it("writes one line per job, however often its final state is repeated or re-attached", () => {
    const outcomes = new OutcomeLines();
    const lines = [
      outcomes.jobChanged(job({ id: "job-1", name: "hello-e2e", status: "EXECUTING" })),
      outcomes.jobChanged(job({ id: "job-1", name: "hello-e2e", status: "SUCCESS", exitCode: null })),
      outcomes.jobChanged(job({ id: "job-1", name: "hello-e2e", status: "SUCCESS", exitCode: 0 })),
      outcomes.jobChanged(job({ id: "job-1", name: "hello-e2e", status: "SUCCESS", exitCode: 0, outputsDownloaded: true })),
      outcomes.runEnded(ended("run-1")),
      outcomes.runEnded(ended("attach-1")),
    ].filter((line) => line !== null);
    assert.deepEqual(lines, ["job hello-e2e finished: Succeeded, exit code 0"]);
  });

  it("reports a job that ends without an exit code when its run ends; a run without a job adds nothing", () => {
    const outcomes = new OutcomeLines();
    assert.equal(outcomes.jobChanged(job({ id: "job-2", name: "long-e2e", status: "CANCELLED" })), null);
    assert.equal(
      outcomes.runEnded({ runId: "r", jobId: "job-2", status: "CANCELLED", exitCode: null, succeeded: false, error: null }),
      "job long-e2e finished: Cancelled",
    );
    assert.equal(outcomes.runEnded({ runId: "r0", jobId: null, status: null, exitCode: null, succeeded: false, error: "no token" }), null);
  });
});
