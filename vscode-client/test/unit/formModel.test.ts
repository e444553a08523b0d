import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  emptyLaunchConfig,
  fieldForError,
  fromFormValues,
  groupErrors,
  hasBlockingErrors,
  parseWebviewMessage,
  splitLines,
  toFormValues,
} from "../../src/form/formModel";
import { serverLaunchConfig } from "./fixtures";

describe("form model ↔ LaunchConfig", () => {
  it("round-trips every field of the server's config through the form", () => {
    const config = serverLaunchConfig();
    assert.deepEqual(fromFormValues(toFormValues(config)), config);
  });

  it("shows list fields one value per line", () => {
    const values = toFormValues(serverLaunchConfig());
    assert.equal(values.inputs, "data/train.csv=TRAIN\ndata/extra");
    assert.equal(values.envVars, "MODE:fast\nURL:http://x:1/a=b");
    assert.equal(values.pythonBuild, "manual");
    assert.equal(values.noDependencies, true);
  });

  it("turns what a user types into clean lists and nulls", () => {
    const values = toFormValues(emptyLaunchConfig());
    values.inputs = "  a.csv=A \r\n\n b.csv \n";
    values.projectId = "   ";
    values.dockerImage = " cr.yandex/x:1 ";
    values.instanceType = "";
    const config = fromFormValues(values);
    assert.deepEqual(config.inputs, ["a.csv=A", "b.csv"]);
    assert.equal(config.projectId, null);
    assert.equal(config.dockerImage, "cr.yandex/x:1");
    assert.equal(config.instanceType, "c1.4", "an emptied instance type falls back to the default");
  });

  it("fills keys the server left out with defaults", () => {
    const values = toFormValues({ program: "/p/main.py" });
    assert.equal(values.program, "/p/main.py");
    assert.equal(values.instanceType, "c1.4");
    assert.equal(values.pythonBuild, "auto");
    assert.equal(values.outputs, "");
  });

  it("splitLines drops blank lines", () => {
    assert.deepEqual(splitLines("\n x \n\n y\n"), ["x", "y"]);
  });
});

describe("field errors beside their field", () => {
  it("keeps form field names", () => {
    assert.equal(fieldForError({ field: "instanceType", message: "bad", severity: "error" }), "instanceType");
    assert.equal(fieldForError({ field: "inputs", message: "bad", severity: "error" }), "inputs");
  });

  it("maps config.yaml keys to the field that edits them", () => {
    const cases: Array<[string, string]> = [
      ["env.python.pip.no-deps", "noDependencies"],
      ["env.python.pip.extra-index-urls[1]", "extraIndexUrls"],
      ["env.python.type", "pythonBuild"],
      ["env.vars.0", "envVars"],
      ["env.docker.password", "dockerPasswordSecret"],
      ["cloud-instance-types", "instanceType"],
      ["s3-mounts", "s3Mounts"],
      ["inputs[2]", "inputs"],
    ];
    for (const [key, expected] of cases) {
      assert.equal(fieldForError({ field: key, message: "m", severity: "error" }), expected, key);
    }
  });

  it("reads `name` in a config.yaml as the job name, in the form as the entry name", () => {
    assert.equal(fieldForError({ field: "name", message: "m", severity: "error", file: "/p/config.yaml" }), "jobName");
    assert.equal(fieldForError({ field: "name", message: "m", severity: "error" }), "name");
  });

  it("puts findings of no field at the top of the form", () => {
    assert.equal(fieldForError({ field: "working-storage.size", message: "m", severity: "error" }), "_form");
  });

  it("groups messages, marks warnings and names the file line", () => {
    const grouped = groupErrors([
      { field: "inputs", message: "file 'x.csv' does not exist", severity: "error" },
      { field: "inputs", message: "duplicate variable", severity: "warning" },
      {
        field: "env.python.type",
        message: "must be 'auto' or 'manual'",
        severity: "error",
        file: "/p/config.yaml",
        range: { start: { line: 3, character: 2 }, end: { line: 3, character: 9 } },
      },
    ]);
    assert.deepEqual(grouped.inputs, ["file 'x.csv' does not exist", "Warning: duplicate variable"]);
    assert.deepEqual(grouped.pythonBuild, ["/p/config.yaml:4: must be 'auto' or 'manual'"]);
  });

  it("only errors block a run, warnings do not", () => {
    assert.equal(hasBlockingErrors([{ field: "inputs", message: "w", severity: "warning" }]), false);
    assert.equal(hasBlockingErrors([{ field: "inputs", message: "e", severity: "error" }]), true);
  });
});

describe("webview messages", () => {
  const values = toFormValues(serverLaunchConfig());

  it("accepts the messages the form sends", () => {
    assert.deepEqual(parseWebviewMessage({ type: "ready" }), { type: "ready" });
    assert.deepEqual(parseWebviewMessage({ type: "load" }), { type: "load" });
    assert.deepEqual(parseWebviewMessage({ type: "action", action: "invoke", values }), {
      type: "action",
      action: "invoke",
      values,
    });
  });

  it("rejects unknown or malformed messages", () => {
    assert.equal(parseWebviewMessage(null), null);
    assert.equal(parseWebviewMessage({ type: "action", action: "rm -rf", values }), null);
    assert.equal(parseWebviewMessage({ type: "changed", values: { ...values, inputs: 3 } }), null);
    assert.equal(parseWebviewMessage({ type: "changed", values: { ...values, pythonBuild: "pip" } }), null);
  });
});
