import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pickInterpreter, SERVER_ARGS, settingDecides } from "../../src/server/interpreter";
import { RestartPolicy } from "../../src/server/restartPolicy";
import { commandFailure } from "../../src/server/commandError";
import { DeclineWorkDoneProgress } from "../../src/server/progressCapability";

describe("interpreter choice", () => {
  it("lets an explicitly set datasphere.pythonPath win, then the Python extension, then python3", () => {
    assert.equal(pickInterpreter({ fromPythonExtension: "/venv/bin/python", setting: "/usr/bin/python3.12" }), "/usr/bin/python3.12");
    assert.equal(pickInterpreter({ fromPythonExtension: "/venv/bin/python", setting: "  " }), "/venv/bin/python");
    assert.equal(pickInterpreter({ fromPythonExtension: undefined, setting: " /opt/py/bin/python " }), "/opt/py/bin/python");
    assert.equal(pickInterpreter({ fromPythonExtension: " ", setting: "" }), "python3");
  });

  it("asks the Python extension only when the setting is empty", () => {
    assert.equal(settingDecides("/usr/bin/python3.12"), true);
    assert.equal(settingDecides("   "), false);
  });

  it("starts the server as a module over stdio", () => {
    assert.deepEqual(SERVER_ARGS, ["-m", "dsjobs_lsp"]);
  });

});

describe("one progress mechanism", () => {
  it("declines LSP work-done progress, whatever the features before it declared", () => {
    const capabilities = { window: { workDoneProgress: true, showMessage: { messageActionItem: { additionalPropertiesSupport: true } } } };
    new DeclineWorkDoneProgress().fillClientCapabilities(capabilities);
    assert.equal(capabilities.window.workDoneProgress, false);
    assert.ok(capabilities.window.showMessage, "the other window capabilities stay");
  });
});

describe("crash restarts", () => {
  it("restarts up to the limit within the window, then gives up", () => {
    const policy = new RestartPolicy({ maxRestarts: 2, windowMs: 1000 });
    assert.equal(policy.shouldRestart(0), true);
    assert.equal(policy.shouldRestart(10), true);
    assert.equal(policy.shouldRestart(20), false);
  });

  it("forgets crashes older than the window", () => {
    const policy = new RestartPolicy({ maxRestarts: 1, windowMs: 1000 });
    assert.equal(policy.shouldRestart(0), true);
    assert.equal(policy.shouldRestart(5000), true);
  });
});

describe("command errors", () => {
  it("reads the message, kind and field errors of a JSON-RPC error", () => {
    const failure = commandFailure({
      code: -32001,
      message: "config.yaml line 4: key 'env.python.type': must be 'auto' or 'manual'",
      data: { kind: "config", errors: [{ field: "env.python.type", message: "must be 'auto' or 'manual'", severity: "error" }] },
    });
    assert.equal(failure.kind, "config");
    assert.equal(failure.errors.length, 1);
    assert.match(failure.message, /line 4/);
  });

  it("copes with plain errors", () => {
    assert.deepEqual(commandFailure(new Error("boom")), { message: "boom", kind: "unknown", errors: [] });
    assert.equal(commandFailure("text").message, "text");
  });
});
