import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import {
  baseCandidates,
  environmentKey,
  installFailureHint,
  installSteps,
  isSupported,
  noPythonMessage,
  parseVersion,
  uvCandidates,
} from "../../src/server/installPlan";

const sha = (text: string): string => createHash("sha256").update(text).digest("hex");
const WHEEL = "/ext/dist/server/dsjobs_lsp-0.1.0-py3-none-any.whl";
const BASE = { bundledWheel: WHEEL, installSource: "", wheelhouse: "", basePython: "/usr/bin/python3", envDir: "/gs/server-x" };

describe("the server's private environment", () => {
  it("accepts Python 3.10 and newer only", () => {
    assert.deepEqual(parseVersion("3.10\n"), [3, 10]);
    assert.equal(parseVersion("Python 3.10"), undefined);
    assert.equal(isSupported([3, 10]), true);
    assert.equal(isSupported([3, 13]), true);
    assert.equal(isSupported([3, 9]), false);
    assert.equal(isSupported([2, 7]), false);
  });

  it("tries the user's interpreter first, then PATH's pythons, once each", () => {
    assert.deepEqual(baseCandidates("python3"), ["python3", "python3.13", "python3.12", "python3.11", "python3.10"]);
    assert.equal(baseCandidates("/p/bin/python")[0], "/p/bin/python");
  });

  it("creates the environment with uv and installs the bundled wheel with compiled bytecode", () => {
    const steps = installSteps({ ...BASE, uv: "/bin/uv" });
    assert.deepEqual(steps.map((step) => [step.command, ...step.args]), [
      ["/bin/uv", "venv", "--quiet", "--python", "/usr/bin/python3", "/gs/server-x"],
      ["/bin/uv", "pip", "install", "--python", "/gs/server-x/bin/python", "--compile-bytecode", WHEEL],
    ]);
  });

  it("falls back to venv + pip, and installs from a wheelhouse without any index when one is set", () => {
    const steps = installSteps({ ...BASE, uv: undefined, wheelhouse: " /wheels " });
    assert.deepEqual(steps.map((step) => [step.command, ...step.args]), [
      ["/usr/bin/python3", "-m", "venv", "/gs/server-x"],
      ["/gs/server-x/bin/python", "-m", "pip", "install", "--disable-pip-version-check", "--compile", "--no-index", "--find-links", "/wheels", WHEEL],
    ]);
  });

  it("installs the install-source override instead of the wheel, and needs one of them", () => {
    const steps = installSteps({ ...BASE, uv: "uv", installSource: "/src/dsjobs" });
    assert.equal(steps[1]?.args.at(-1), "/src/dsjobs");
    assert.throws(() => installSteps({ ...BASE, uv: "uv", bundledWheel: undefined }), /serverInstallSource/);
  });

  it("names the environment after the wheel's content and the settings: a rebuilt wheel gets a new one", () => {
    const key = environmentKey(BASE, "digest-1", sha);
    assert.match(key, /^[0-9a-f]{12}$/);
    assert.equal(environmentKey({ ...BASE, bundledWheel: "/other/place/dsjobs_lsp-0.1.0-py3-none-any.whl" }, "digest-1", sha), key);
    assert.notEqual(environmentKey(BASE, "digest-2", sha), key);
    assert.notEqual(environmentKey({ ...BASE, wheelhouse: "/wheels" }, "digest-1", sha), key);
    assert.notEqual(environmentKey({ ...BASE, installSource: "dsjobs-lsp==0.1.0" }, "digest-1", sha), key);
  });

  it("looks for uv beside the Python and where its installers put it", () => {
    assert.deepEqual(uvCandidates("/home/u", "/opt/py/bin/python3", "linux"), ["/opt/py/bin/uv", "/home/u/.local/bin/uv", "/home/u/.cargo/bin/uv"]);
  });

  it("tells the fix: which Pythons were tried and what to install or set", () => {
    const message = noPythonMessage(["python3 (3.8)", "python3.13"]);
    assert.match(message, /Python 3\.10 or newer/);
    assert.match(message, /python3 \(3\.8\)/);
    assert.match(message, /datasphere\.pythonPath/);
    assert.match(installFailureHint("Error: ensurepip is not available"), /python3-venv/);
    assert.match(installFailureHint("Because dsjobs-lsp was not found in the package registry"), /serverWheelhouse/);
  });
});
