import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { addLine, datasetVariable, formatSize, resourceChoices } from "../../src/form/localResources";

describe("the form's local resource choices", () => {
  it("offers datasets as ID=VAR and connectors as ID, named by name and size or path", () => {
    const choices = resourceChoices({
      datasets: [{ id: "a".repeat(20), name: "train-data", size: 1536 }],
      s3Mounts: [{ id: "b".repeat(20), path: "/srv/bucket" }],
    });
    assert.deepEqual(choices.datasets, [{ line: `${"a".repeat(20)}=TRAIN_DATA`, label: `train-data (1.5 KB) — ${"a".repeat(20)}` }]);
    assert.deepEqual(choices.s3Mounts, [{ line: "b".repeat(20), label: `/srv/bucket — ${"b".repeat(20)}` }]);
  });

  it("offers nothing when the backend has nothing (the cloud)", () => {
    assert.deepEqual(resourceChoices({ datasets: [], s3Mounts: [] }), { datasets: [], s3Mounts: [] });
  });

  it("makes a variable name of any dataset name", () => {
    assert.equal(datasetVariable("my data.v2"), "MY_DATA_V2");
    assert.equal(datasetVariable("2024"), "DS_2024");
    assert.equal(datasetVariable("ü"), "DATASET");
  });

  it("writes sizes as people read them", () => {
    assert.equal(formatSize(0), "0 B");
    assert.equal(formatSize(1023), "1023 B");
    assert.equal(formatSize(1024), "1 KB");
    assert.equal(formatSize(20 * 1024 * 1024), "20 MB");
    assert.equal(formatSize(3.25 * 1024 ** 3), "3.3 GB");
  });

  it("adds a line once, on a line of its own", () => {
    assert.equal(addLine("", "X=A"), "X=A");
    assert.equal(addLine("Y=B\n", "X=A"), "Y=B\nX=A");
    assert.equal(addLine("X=A\nY=B", "X=A"), "X=A\nY=B");
  });
});
