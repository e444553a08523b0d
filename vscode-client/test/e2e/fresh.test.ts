/**
 * A fresh VS Code: no Python extension, no `datasphere.pythonPath`, only the system's `python3` (≥ 3.10,
 * without dsjobs_lsp) and uv where its installer puts it. Installing the .vsix and running a file must work:
 * the extension sets up its server in a private environment (progress shown, status bar says so), never
 * touching the user's interpreter; F5 opens the form for the active file, and the job runs to success; the
 * form keeps the last Invoke's values.
 */

import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CLIENT_DIR, languageServerPids, loginShellPython, SCREENSHOT_DIR, startHarness, type Harness } from "./harness";
import { debugConsoleText, openFile, outputChannelFile, runCommand, screenshot, waitForFilledForm, waitUntil, type webview } from "./workbench";

const VSIX = process.env.DSJOBS_VSIX ?? join(CLIENT_DIR, "dsjobs-vscode.vsix");

const FIRST = `import pathlib
print("first run on a fresh machine")
pathlib.Path("done.txt").write_text("ok\\n")
`;

/** The form of a file, once the server has filled it. */
async function formFor(page: Page, file: string): Promise<ReturnType<typeof webview>> {
  await page.locator(".tabs-container .tab.active", { hasText: `DataSphere Job Configuration: ${file}` }).waitFor({ timeout: 60_000 });
  return waitForFilledForm(page, file);
}

/** The executable a process runs. */
function executableOf(pid: number): string {
  return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
}

describe("DataSphere Jobs in a fresh VS Code", { timeout: 10 * 60_000 }, () => {
  let harness: Harness;
  let page: Page;
  let python3: string;

  before(async () => {
    assert.ok(existsSync(VSIX), `package the extension first (${VSIX})`);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    harness = await startHarness({
      vsix: VSIX,
      files: { "first.py": FIRST },
      settings: { "datasphere.pythonPath": undefined },
    });
    page = harness.page;
    python3 = loginShellPython(harness.home);
  });

  after(async () => {
    await harness?.stop();
  });

  it("starts from a python3 of 3.10+ that lacks dsjobs_lsp", () => {
    const version = execFileSync(python3, ["-c", "import sys; print(sys.version_info >= (3, 10))"], { encoding: "utf8" });
    assert.equal(version.trim(), "True", `${python3} is Python 3.10+`);
    assert.notEqual(spawnSync(python3, ["-c", "import dsjobs_lsp"]).status, 0, `${python3} has no dsjobs_lsp`);
  });

  it("sets up its server with visible progress, in its own environment", async () => {
    const setup = page.locator(".notifications-toasts .notification-list-item", { hasText: "setting up the server" });
    await setup.waitFor({ timeout: 60_000 });
    await screenshot(page, "first-run-setup");
    await page.locator(".statusbar-item", { hasText: "DataSphere" }).locator(".codicon-cloud").first().waitFor({ timeout: 240_000 });
    const [pid] = await waitUntil("the language server", () => Promise.resolve(languageServerPids(harness.stateDir)), (p) => p.length === 1);
    const serverPython = executableOf(pid ?? 0);
    assert.ok(serverPython.startsWith(join(harness.userData, "User", "globalStorage")), `the server runs from global storage: ${serverPython}`);
    assert.notEqual(spawnSync(python3, ["-c", "import dsjobs_lsp"]).status, 0, "the user's python3 is left as it was");
    const toolkit = outputChannelFile(harness.userData, "DataSphere Jobs Toolkit");
    assert.ok(toolkit.includes(`environment analysis runs in ${python3}`), `analysis runs in the user's python3:\n${toolkit}`);
    assert.match(toolkit, /The DataSphere Jobs server is running\./);
  });

  it("opens the form for the active file on F5 without launch.json, and runs it to success", async () => {
    await openFile(page, "first.py");
    await page.keyboard.press("F5");
    const form = await formFor(page, "first.py");
    // "Fix the errors" shows the first field at fault, even from another tab.
    await form.locator("#inputs textarea").fill("missing.csv");
    await form.locator("vscode-tab-header", { hasText: "ADVANCED" }).click();
    await waitUntil("the Inputs field to be hidden", () => form.locator("#inputs").isVisible(), (v) => !v, 10_000);
    await form.locator("#invoke").click();
    await waitUntil("the form to say what to fix", () => form.locator("#status").innerText(), (t) => t.includes("Fix the errors"), 30_000);
    await waitUntil("the first field with an error to be shown", () => form.locator("#inputs").isVisible(), (v) => v, 10_000);
    await form.locator("#inputs textarea").fill("");
    await form.locator("#outputs textarea").fill("done.txt");
    await form.locator("#invoke").click();
    // A quick job may already have ended when the form is next looked at: its outcome replaces "Job started".
    await waitUntil(
      "the form to say the job started",
      () => form.locator("#status").innerText(),
      (t) => t.includes("Job started") || t.includes("completed successfully"),
      60_000,
    );
    const text = await waitUntil("the job to succeed", () => debugConsoleText(page), (t) => t.includes("job completed successfully"), 180_000);
    assert.match(text, /first run on a fresh machine/);
    await waitUntil("done.txt to be downloaded", () => Promise.resolve(existsSync(join(harness.workspace, "done.txt"))), (ok) => ok, 30_000);
    await waitUntil("the form to say how the job ended", () => form.locator("#status").innerText(), (t) => t.includes("completed successfully"), 60_000);
    await page
      .locator(".notifications-toasts .notification-list-item", { hasText: "DataSphere job first.py completed successfully" })
      .waitFor({ timeout: 30_000 });
    await screenshot(page, "first-run-success");
  });

  it("remembers the last Invoke's values for the file until Save", async () => {
    await runCommand(page, "View: Close All Editors");
    await openFile(page, "first.py");
    await page.keyboard.press("F5");
    const form = await formFor(page, "first.py");
    await waitUntil("the last Invoke's outputs", () => form.locator("#outputs").evaluate((el) => (el as HTMLElement & { value: string }).value), (v) => v === "done.txt", 30_000);
    assert.match(await form.locator("#source").innerText(), /last Invoke/);
  });
});
