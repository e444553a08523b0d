import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { ConsoleParams, Job, LogParams, RunEndedParams } from "../../src/protocol";
import { RunRouter, type RunListener } from "../../src/run/runRouter";
import { debugConfigFromLaunch, jobExitCode, launchConfigFromDebug } from "../../src/debug/launchArgs";
import { job } from "./fixtures";

function recorder(): RunListener & { consoles: ConsoleParams[]; logs: LogParams[]; jobs: Job[]; ends: RunEndedParams[] } {
  const record = {
    consoles: [] as ConsoleParams[],
    logs: [] as LogParams[],
    jobs: [] as Job[],
    ends: [] as RunEndedParams[],
    console: (p: ConsoleParams) => record.consoles.push(p),
    log: (p: LogParams) => record.logs.push(p),
    jobChanged: (j: Job) => record.jobs.push(j),
    runEnded: (p: RunEndedParams) => record.ends.push(p),
  };
  return record;
}

function runEnd(runId: string, jobId: string | null): RunEndedParams {
  return { runId, jobId, status: "SUCCESS", exitCode: 0, succeeded: true, error: null };
}

describe("run router", () => {
  it("routes a run's console lines, then its job's output, to its follower only", () => {
    const router = new RunRouter();
    const mine = recorder();
    const other = recorder();
    router.subscribe(mine).bindRun("run-1");
    router.subscribe(other).bindRun("run-2");
    router.console({ jobId: null, runId: "run-1", line: "creating job ...", level: "info" });
    router.console({ jobId: "job-1", runId: "run-1", line: "created job job-1", level: "info" });
    router.log({ jobId: "job-1", stream: "stdout", lines: ["hello"] });
    router.jobChanged(job({ id: "job-1", status: "SUCCESS", exitCode: 0 }));
    assert.deepEqual(mine.consoles.map((c) => c.line), ["creating job ...", "created job job-1"]);
    assert.deepEqual(mine.logs.map((l) => l.lines), [["hello"]]);
    assert.equal(mine.jobs[0]?.status, "SUCCESS");
    assert.equal(other.consoles.length + other.logs.length + other.jobs.length, 0);
  });

  it("tells a follower bound late that its job already finished", () => {
    const router = new RunRouter();
    router.jobChanged(job({ id: "fast", status: "ERROR", exitCode: 3 }));
    const late = recorder();
    router.subscribe(late).bindJob("fast");
    assert.equal(late.jobs[0]?.exitCode, 3);
  });

  it("ends a run's follower with dsjobs/runEnded, even one bound after the run ended", () => {
    const router = new RunRouter();
    const follower = recorder();
    router.subscribe(follower).bindRun("run-1");
    router.runEnded(runEnd("run-1", "job-1"));
    router.runEnded(runEnd("run-2", "job-2"));
    assert.deepEqual(follower.ends.map((e) => e.runId), ["run-1"]);
    const attach = recorder();
    router.subscribe(attach).bindRun("run-2");
    assert.deepEqual(attach.ends.map((e) => e.jobId), ["job-2"]);
  });

  it("stops delivering after dispose", () => {
    const router = new RunRouter();
    const gone = recorder();
    const subscription = router.subscribe(gone);
    subscription.bindJob("j");
    subscription.dispose();
    router.log({ jobId: "j", stream: "stdout", lines: ["x"] });
    assert.equal(gone.logs.length, 0);
  });
});

describe("debug configuration ↔ LaunchConfig", () => {
  it("keeps only LaunchConfig keys of a launch.json entry", () => {
    const config = launchConfigFromDebug({
      type: "datasphere",
      request: "launch",
      name: "train",
      program: "/p/train.py",
      instanceType: "g1.1",
      __sessionId: "x",
      noDebug: true,
    });
    assert.deepEqual(config, { name: "train", program: "/p/train.py", instanceType: "g1.1" });
  });

  it("builds a datasphere launch configuration from the form, without nulls", () => {
    const debug = debugConfigFromLaunch({ name: "", program: "/p/a.py", projectId: null }, "DataSphere: a.py");
    assert.deepEqual(debug, { type: "datasphere", request: "launch", name: "DataSphere: a.py", program: "/p/a.py" });
  });

  it("reports the job's exit code, or 0/1 from its status", () => {
    assert.equal(jobExitCode("ERROR", 7), 7);
    assert.equal(jobExitCode("SUCCESS", null), 0);
    assert.equal(jobExitCode("CANCELLED", null), 1);
  });
});
