import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  changedKeys,
  didChangeConfigurationParams,
  initializationOptions,
  readSettings,
  RESTART_SETTING_KEYS,
  SERVER_SETTING_KEYS,
} from "../../src/settings";

function reader(values: Record<string, unknown>): { get<T>(key: string): T | undefined } {
  return { get: <T>(key: string) => values[key] as T | undefined };
}

describe("settings → language server", () => {
  it("defaults to the local backend and the bundled server wheel (no install source, no wheelhouse)", () => {
    const settings = readSettings(reader({}));
    assert.equal(settings.backend, "local");
    assert.equal(settings.serverInstallSource, "");
    assert.equal(settings.serverWheelhouse, "");
    assert.equal(settings.pythonPath, "");
  });

  it("ignores an unknown backend value and trims text", () => {
    const settings = readSettings(reader({ backend: "mars", project: "  abcdefghij0123456789 " }));
    assert.equal(settings.backend, "local");
    assert.equal(settings.project, "abcdefghij0123456789");
  });

  it("builds initializationOptions with the storage path; empty settings become null", () => {
    const settings = readSettings(reader({ backend: "cloud", project: "abcdefghij0123456789", yandexCloudConsolePath: "" }));
    assert.deepEqual(initializationOptions(settings, "/storage/dsjobs"), {
      storagePath: "/storage/dsjobs",
      backend: "cloud",
      projectId: "abcdefghij0123456789",
      ycPath: null,
      serviceAccountKeyFile: null,
    });
  });

  it("sends changes under a dsjobs section without the storage path", () => {
    const settings = readSettings(reader({ yandexCloudConsolePath: "/opt/yc/bin/yc" }));
    assert.deepEqual(didChangeConfigurationParams(settings), {
      settings: {
        dsjobs: { backend: "local", projectId: null, ycPath: "/opt/yc/bin/yc", serviceAccountKeyFile: null },
      },
    });
  });

  it("passes the service account key file to the server, which then authenticates unattended", () => {
    const settings = readSettings(reader({ serviceAccountKeyFile: " /keys/sa.json " }));
    assert.equal(didChangeConfigurationParams(settings).settings.dsjobs.serviceAccountKeyFile, "/keys/sa.json");
    const touched = new Set(["datasphere.serviceAccountKeyFile"]);
    assert.deepEqual(changedKeys((section) => touched.has(section), SERVER_SETTING_KEYS), ["serviceAccountKeyFile"]);
  });

  it("tells which change needs a restart and which just a notification", () => {
    const touched = new Set(["datasphere.pythonPath"]);
    const affects = (section: string): boolean => touched.has(section);
    assert.deepEqual(changedKeys(affects, RESTART_SETTING_KEYS), ["pythonPath"]);
    assert.deepEqual(changedKeys(affects, SERVER_SETTING_KEYS), []);
  });
});
