import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { outcomeMessage, SERVER_OUTCOME_MESSAGE, wantsGracefulShutdown } from "../../src/run/outcomeMessages";
import type { RunEndedParams } from "../../src/protocol";

const ended = (over: Partial<RunEndedParams>): RunEndedParams => ({
  runId: "r",
  jobId: "abcdefghij0123456789",
  status: "SUCCESS",
  exitCode: 0,
  succeeded: true,
  error: null,
  ...over,
});

describe("a run's closing notification", () => {
  it("names the job as the history does", () => {
    assert.deepEqual(outcomeMessage(ended({}), "train.py"), { text: "DataSphere job train.py completed successfully", level: "info" });
  });

  it("words a cancel as information, a failure as an error with its exit code", () => {
    assert.deepEqual(outcomeMessage(ended({ status: "CANCELLED", succeeded: false, exitCode: null }), "long"), {
      text: "DataSphere job long was cancelled",
      level: "info",
    });
    assert.deepEqual(outcomeMessage(ended({ status: "ERROR", succeeded: false, exitCode: 3 }), "x.py"), {
      text: "DataSphere job x.py ended with ERROR, exit code 3",
      level: "error",
    });
  });

  it("announces nothing for a detached follow or a run that failed before its job ended", () => {
    assert.equal(outcomeMessage(ended({ status: "EXECUTING", succeeded: false }), "j"), undefined);
    assert.equal(outcomeMessage(ended({ status: null, error: "boom", succeeded: false }), "j"), undefined);
  });

  it("recognises the server's own closing messages, and nothing else", () => {
    assert.ok(SERVER_OUTCOME_MESSAGE.test("DataSphere job abcdefghij0123456789 ended with CANCELLED"));
    assert.ok(SERVER_OUTCOME_MESSAGE.test("DataSphere job abcdefghij0123456789 completed successfully"));
    assert.ok(!SERVER_OUTCOME_MESSAGE.test("OAuth token saved"));
  });

  it("offers graceful shutdown only when the config has the top-level key", () => {
    assert.ok(wantsGracefulShutdown("cmd: python a.py\ngraceful-shutdown:\n  signal: SIGTERM\n"));
    assert.ok(!wantsGracefulShutdown("cmd: python a.py\n# graceful-shutdown: later\n"));
  });
});
