import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { jobItemModel, jobLabel, mergeJob, runningJobs, shortTime, sortJobs } from "../../src/history/historyModel";
import { job } from "./fixtures";

describe("history tree items from jobs", () => {
  const now = new Date("2026-11-24T12:00:00+00:00");

  it("shows a running job with a spinning icon and a Cancel action", () => {
    const item = jobItemModel(job({ status: "EXECUTING" }), now);
    assert.equal(item.icon, "loading~spin");
    assert.equal(item.label, "train.py");
    assert.match(item.description, /^Executing/);
    assert.deepEqual(item.contextValue.split(" "), ["job", "running"]);
  });

  it("shows a succeeded job with its exit code and no Cancel", () => {
    const item = jobItemModel(job({ status: "SUCCESS", exitCode: 0, name: "nightly", link: "http://x/job/1" }), now);
    assert.equal(item.icon, "pass");
    assert.equal(item.iconColor, "testing.iconPassed");
    assert.equal(item.label, "nightly");
    assert.match(item.description, /^Succeeded · exit 0/);
    assert.deepEqual(item.contextValue.split(" "), ["job", "link"]);
  });

  it("shows failures and cancellations distinctly", () => {
    assert.equal(jobItemModel(job({ status: "ERROR", exitCode: 2 }), now).icon, "error");
    assert.match(jobItemModel(job({ status: "ERROR", exitCode: 2 }), now).description, /Failed · exit 2/);
    assert.equal(jobItemModel(job({ status: "CANCELLED" }), now).icon, "circle-slash");
    assert.equal(jobItemModel(job({ status: "CANCELLING" }), now).icon, "loading~spin");
  });

  it("puts the job id, project and status details in the tooltip", () => {
    const tooltip = jobItemModel(job({ statusDetails: "OOM killed" }), now).tooltip;
    assert.match(tooltip, /Job ID: bt1jobid0000000000aa/);
    assert.match(tooltip, /Project: localproject00000000/);
    assert.match(tooltip, /OOM killed/);
  });

  it("falls back to the id when there is no name or file", () => {
    assert.equal(jobLabel(job({ entryFile: null })), "bt1jobid0000000000aa");
    assert.equal(jobLabel(job({ entryFile: "C:\\proj\\run.py" })), "run.py");
  });

  it("prints today's times short and older ones with the date", () => {
    const today = new Date(2026, 10, 24, 18, 0);
    assert.equal(shortTime(new Date(2026, 10, 24, 9, 5).toISOString(), today), "09:05");
    assert.equal(shortTime(new Date(2026, 10, 2, 9, 5).toISOString(), today), "2026-11-02 09:05");
    assert.equal(shortTime(null, today), "");
  });
});

describe("history list", () => {
  const old = job({ id: "a", createdAt: "2026-11-20T10:00:00Z" });
  const mid = job({ id: "b", createdAt: "2026-11-22T10:00:00Z" });
  const fresh = job({ id: "c", createdAt: null });

  it("orders newest first, just-created jobs on top", () => {
    assert.deepEqual(sortJobs([old, fresh, mid]).map((j) => j.id), ["c", "b", "a"]);
  });

  it("replaces a changed job in place and adds new ones", () => {
    const list = sortJobs([old, mid]);
    const updated = mergeJob(list, { ...old, status: "SUCCESS" });
    assert.equal(updated.length, 2);
    assert.equal(updated.find((j) => j.id === "a")?.status, "SUCCESS");
    assert.deepEqual(mergeJob(updated, job({ id: "d", createdAt: "2026-11-23T10:00:00Z" })).map((j) => j.id), ["d", "b", "a"]);
  });

  it("lists the jobs still running", () => {
    assert.deepEqual(runningJobs([old, { ...mid, status: "CANCELLED" }]).map((j) => j.id), ["a"]);
  });
});
