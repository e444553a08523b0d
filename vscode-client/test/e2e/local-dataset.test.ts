/**
 * The form offers the local backend's datasets (issue 13 §3): a dataset made with `dsjobs local dataset create`
 * in the data dir this VS Code's local backend uses shows up beside the form's Datasets field, picking it adds
 * `ID=VAR`, and a job given `${VAR}` reads the dataset's file. The picker follows the Project Identifier field.
 */

import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CLIENT_DIR, SCREENSHOT_DIR, startHarness, type Harness } from "./harness";
import { explorerContextMenu, outputChannelText, runCommand, screenshot, waitForFilledForm, waitUntil, webview } from "./workbench";

const VSIX = process.env.DSJOBS_VSIX ?? join(CLIENT_DIR, "dsjobs-vscode.vsix");
/** The repository's own `dsjobs` (scripts/lib/venv.sh makes it). */
const DSJOBS = process.env.DSJOBS_CLI ?? resolve(CLIENT_DIR, "..", ".venv", "bin", "dsjobs");

const READER = `import pathlib
import sys

print("dataset says:", (pathlib.Path(sys.argv[1]) / "greeting.txt").read_text().strip())
`;

/** Runs `dsjobs local dataset create` against the harness's local backend data dir; returns the dataset's ID. */
function createDataset(harness: Harness, name: string, folder: string): string {
  const output = execFileSync(DSJOBS, ["local", "dataset", "create", name, "--path", folder], {
    encoding: "utf8",
    env: { ...process.env, HOME: harness.home, DSJOBS_LOCAL_DATA_DIR: harness.dataDir, DSJOBS_BACKEND: "local", XDG_CONFIG_HOME: join(harness.home, ".config") },
  });
  const id = output.trim();
  assert.match(id, /^[0-9a-z]{20}$/);
  return id;
}

/** The labels of a picker's entries (its prompt first). */
function pickerLabels(form: ReturnType<typeof webview>, id: string): Promise<string[]> {
  return form.locator(`#${id}`).evaluate((el) => Array.from((el as HTMLSelectElement).options).map((option) => option.text));
}

describe("The form offers local datasets", { timeout: 8 * 60_000, skip: !existsSync(DSJOBS) && `no ${DSJOBS}` }, () => {
  let harness: Harness;
  let page: Page;
  let folder: string;
  let datasetId: string;

  before(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    harness = await startHarness({ vsix: VSIX, files: { "reader.py": READER } });
    page = harness.page;
    folder = mkdtempSync(join(tmpdir(), "dsjobs-dataset-"));
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "greeting.txt"), "hello from a local dataset\n");
    datasetId = createDataset(harness, "greetings", folder);
  });

  after(async () => {
    await harness?.stop();
    rmSync(folder, { recursive: true, force: true });
  });

  it("offers the dataset beside the Datasets field and adds ID=VAR when picked", async () => {
    await page.locator(".statusbar-item", { hasText: "DataSphere" }).first().waitFor({ timeout: 60_000 });
    await runCommand(page, "View: Show Explorer");
    await explorerContextMenu(page, "reader.py", "Run File in DataSphere Jobs");
    const form = await waitForFilledForm(page, "reader.py");
    await form.locator("vscode-tab-header", { hasText: "ADVANCED" }).click();
    const picker = form.locator("#datasets-known");
    await picker.waitFor({ state: "visible", timeout: 60_000 });
    const labels = await pickerLabels(form, "datasets-known");
    assert.deepEqual(labels.slice(1), [`greetings (27 B) — ${datasetId}`]);
    assert.equal(await picker.getAttribute("aria-label"), "Add a local dataset…");
    await picker.selectOption(`${datasetId}=GREETINGS`);
    const datasets = await form.locator("#datasets").evaluate((el) => (el as HTMLElement & { value: string }).value);
    assert.equal(datasets, `${datasetId}=GREETINGS`);
    assert.equal(await picker.inputValue(), "", "the picker returns to its prompt");
    await screenshot(page, "form-local-dataset");
  });

  it("asks again when the project changes: another project has no datasets", async () => {
    const form = webview(page);
    const picker = form.locator("#datasets-known");
    await form.locator("#projectId input").fill("another-project");
    await picker.waitFor({ state: "hidden", timeout: 30_000 });
    await form.locator("#projectId input").fill("");
    await picker.waitFor({ state: "visible", timeout: 30_000 });
  });

  it("runs a job that reads the picked dataset", async () => {
    const form = webview(page);
    await form.locator("vscode-tab-header", { hasText: "BASIC" }).click();
    await form.locator("#args textarea").fill("${GREETINGS}");
    await page.waitForTimeout(800);
    await form.locator("#invoke").click();
    await waitUntil("the form to report the job's success", () => form.locator("#status").innerText(), (t) => t.includes("completed successfully"), 180_000);
    const invocation = await waitUntil(
      "the program's output in the Invocation channel",
      () => outputChannelText(page, "DataSphere Jobs Invocation"),
      (t) => t.includes("dataset says: hello from a local dataset"),
      30_000,
    );
    assert.ok(invocation.includes("dataset says: hello from a local dataset"));
  });
});
