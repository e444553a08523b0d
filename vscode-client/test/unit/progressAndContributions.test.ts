import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it } from "node:test";
import { emptyLaunchConfig, INSTANCE_TYPES } from "../../src/form/formModel";
import { percentOf, progressIncrement, progressMessage, stageTitle } from "../../src/run/progressModel";
import { OAUTH_TOKEN_URL, validateTokenInput } from "../../src/auth/tokenInput";

describe("progress notifications", () => {
  it("computes percent from bytes when the server gives none", () => {
    assert.equal(percentOf({ percent: null, done: 50, total: 200 }), 25);
    assert.equal(percentOf({ percent: 140, done: 0, total: null }), 100);
    assert.equal(percentOf({ percent: null, done: 5, total: null }), null);
  });

  it("reports increments, never going back", () => {
    assert.equal(progressIncrement(20, 35), 15);
    assert.equal(progressIncrement(35, 30), 0);
    assert.equal(progressIncrement(35, null), 0);
  });

  it("titles stages and shows message with percent", () => {
    assert.equal(stageTitle("upload"), "DataSphere Jobs: uploading files");
    assert.equal(progressMessage({ message: "12.0MB / 129.7MB" }, 9), "12.0MB / 129.7MB — 9%");
    assert.equal(progressMessage({ message: "" }, null), "");
  });
});

describe("OAuth token input", () => {
  it("points at the Yandex OAuth page of the toolkit's client id", () => {
    assert.equal(new URL(OAUTH_TOKEN_URL).searchParams.get("client_id"), "1a6990aa636648e9b2ef855fa7bec2fb");
  });

  it("accepts a token and rejects empty or spaced input", () => {
    assert.equal(validateTokenInput(" y0_AgAAAAABcdef "), undefined);
    assert.match(validateTokenInput("") ?? "", /Paste/);
    assert.match(validateTokenInput("two words") ?? "", /no spaces/);
  });
});

interface Manifest {
  contributes: {
    commands: Array<{ command: string; title: string }>;
    configuration: { properties: Record<string, { default?: unknown; enum?: string[] }> };
    debuggers: Array<{ type: string; configurationAttributes: { launch: { properties: Record<string, { enum?: string[] }> } } }>;
    views: Record<string, Array<{ id: string; name: string }>>;
    viewsContainers: { activitybar: Array<{ title: string }> };
    menus: Record<string, Array<{ command: string }>>;
  };
}

describe("package.json contributions", () => {
  const manifest = JSON.parse(readFileSync(join(__dirname, "..", "..", "package.json"), "utf8")) as Manifest;
  const titles = new Map(manifest.contributes.commands.map((c) => [c.command, c.title]));

  it("has the commands with the product's exact titles, none clashing with server ids", () => {
    assert.equal(titles.get("datasphere.setToken"), "DataSphere Jobs: Set OAuth token");
    assert.equal(titles.get("datasphere.removeToken"), "DataSphere Jobs: Remove OAuth token");
    assert.equal(titles.get("datasphere.runFile"), "Run File in DataSphere Jobs");
    for (const [id, title] of [["cancel", "Cancel"], ["attach", "Attach"], ["copyId", "Copy job ID"], ["open", "Open job"]]) {
      assert.equal(titles.get(`datasphere.history.${id}`), title);
    }
    assert.ok([...titles.keys()].every((id) => !id.startsWith("dsjobs.")));
  });

  it("offers Run File on .py files in the explorer and the editor's run menu", () => {
    assert.ok(manifest.contributes.menus["explorer/context"]?.some((m) => m.command === "datasphere.runFile"));
    assert.ok(manifest.contributes.menus["editor/title/run"]?.some((m) => m.command === "datasphere.runFile"));
  });

  it("has the settings, local backend by default", () => {
    const props = manifest.contributes.configuration.properties;
    for (const key of ["project", "yandexCloudConsolePath", "backend", "pythonPath"]) {
      assert.ok(props[`datasphere.${key}`], key);
    }
    assert.equal(props["datasphere.backend"]?.default, "local");
    assert.deepEqual(props["datasphere.backend"]?.enum, ["local", "cloud"]);
  });

  it("describes every form field in the datasphere debug type's launch attributes", () => {
    const debuggerType = manifest.contributes.debuggers.find((d) => d.type === "datasphere");
    assert.ok(debuggerType);
    const attributes = debuggerType.configurationAttributes.launch.properties;
    const formKeys = Object.keys(emptyLaunchConfig()).filter((key) => key !== "name");
    assert.deepEqual(formKeys.filter((key) => !(key in attributes)), []);
    assert.deepEqual(attributes.instanceType?.enum, [...INSTANCE_TYPES]);
  });

  it("has the DataSphere Jobs container with Launch History and Settings", () => {
    assert.equal(manifest.contributes.viewsContainers.activitybar[0]?.title, "DataSphere Jobs");
    assert.deepEqual(manifest.contributes.views["datasphere-jobs"]?.map((v) => v.name), ["Launch History", "Settings"]);
  });
});
