/**
 * End to end in real VS Code (code-server + headless Chromium) against the real language server and the
 * embedded local backend: the packaged .vsix is installed, a file is run from the explorer through the form,
 * its output, console sequence and history entry are checked, the form opens from the editor title's run menu,
 * the saved launch.json entry and the dynamic "Run File in DataSphere Jobs" configuration run from the Run and
 * Debug view, a long job is cancelled from the history panel, and an OAuth token is set and removed.
 */

import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import { tmpdir } from "node:os";
import type { Page } from "playwright-core";
import { CLIENT_DIR, languageServerPids, pinnedPython, SCREENSHOT_DIR, startHarness, type Harness } from "./harness";
import {
  clickMenuEntry,
  closeAllEditors,
  debugConsoleText,
  explorerContextMenu,
  historyRow,
  openDatasphereContainer,
  openFile,
  outputChannelFile,
  outputChannelText,
  runCommand,
  screenshot,
  selectDebugConfiguration,
  selectedDebugConfiguration,
  startDebugging,
  waitForFilledForm,
  waitUntil,
  webview,
} from "./workbench";

const HELLO = `import pathlib
import sys

text = pathlib.Path("data.txt").read_text().strip()
print("hello from dsjobs:", text)
print("a warning on stderr", file=sys.stderr)
pathlib.Path("result.txt").write_text(text.upper() + "\\n")
`;

const DYNAMIC = `print("hello from the dynamic configuration")
`;

const LONG = `import time

for step in range(600):
    print("long job step", step, flush=True)
    time.sleep(1)
`;

/** Every log file code-server and the extension host wrote, concatenated. */
function readLogFiles(folder: string): string {
  const files = readdirSync(folder, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  return files.map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8")).join("\n");
}

/** Where each step's last screen is kept for diagnosis (outside the repo). */
function harnessShotDir(): string {
  const dir = join(tmpdir(), "dsjobs-e2e-shots");
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** Asserts that each of `parts` occurs in `text` after the previous one. */
function assertInOrder(text: string, parts: string[]): void {
  let from = 0;
  for (const part of parts) {
    const at = text.indexOf(part, from);
    assert.ok(at >= 0, `"${part}" should follow "${text.slice(Math.max(0, from - 80), from)}" in:\n${text}`);
    from = at + part.length;
  }
}

const VSIX = process.env.DSJOBS_VSIX ?? join(CLIENT_DIR, "dsjobs-vscode.vsix");

async function openForm(page: Page, file: string): Promise<ReturnType<typeof webview>> {
  await runCommand(page, "View: Show Explorer");
  await explorerContextMenu(page, file, "Run File in DataSphere Jobs");
  return waitForFilledForm(page, file);
}

/**
 * Types a path into VS Code's own file dialog once it has shown its starting folder (typing earlier races
 * the dialog's own fill and autocompletion), and accepts it.
 */
async function answerFileDialog(page: Page, target: string): Promise<void> {
  const input = page.locator(".quick-input-widget input.input");
  await input.waitFor();
  await waitUntil("the file dialog's starting folder", () => input.inputValue(), (value) => value.startsWith("/"), 20_000);
  await waitUntil(
    "the file dialog to take the path",
    async () => {
      await input.fill(target);
      return input.inputValue();
    },
    (value) => value === target,
    20_000,
  );
  await input.press("Enter");
}

/** IDs of the jobs whose output the Invocation channel shows (one header per job). */
function invocationJobIds(userData: string): Set<string> {
  const text = outputChannelFile(userData, "DataSphere Jobs Invocation");
  return new Set([...text.matchAll(/----- job (\S+) -----/g)].map((match) => match[1] ?? ""));
}

/** The console of the first run in `text` that created a job not in `known`, from its `created job` line on. */
function newRunConsole(text: string, known: Set<string>): { jobId: string; console: string } | undefined {
  for (const match of text.matchAll(/created job `?([0-9a-z]{20})`?/g)) {
    const jobId = match[1] ?? "";
    if (!known.has(jobId)) {
      return { jobId, console: text.slice(match.index) };
    }
  }
  return undefined;
}

/** Waits for a debug session started now to run a new job to its end; returns the job's ID and console. */
async function followNewRun(page: Page, known: Set<string>, programLine: string): Promise<{ jobId: string; console: string }> {
  await waitUntil(
    "a new job's console sequence in the Debug Console",
    async () => newRunConsole(await debugConsoleText(page), known),
    (run) => run !== undefined && /job link: \S+/.test(run.console) && run.console.includes(programLine),
    120_000,
  );
  await waitUntil("the debug session to end with the job", () => page.locator(".debug-toolbar").isVisible(), (v) => !v, 120_000);
  const run = newRunConsole(await debugConsoleText(page), known);
  assert.ok(run);
  assertInOrder(run.console, ["executing job", "job link:", programLine, "job completed successfully"]);
  return run;
}

/** Job IDs named in `created job` lines of a console text. */
function jobIdsIn(text: string): string[] {
  return [...text.matchAll(/created job `?([0-9a-z]{20})`?/g)].map((match) => match[1] ?? "");
}

async function openTab(form: ReturnType<typeof webview>, title: string): Promise<void> {
  await form.locator("vscode-tab-header", { hasText: title }).click();
}

async function fillTextarea(form: ReturnType<typeof webview>, id: string, text: string): Promise<void> {
  const area = form.locator(`#${id} textarea`);
  await area.fill(text);
}

describe("DataSphere Jobs in VS Code", { timeout: 10 * 60_000 }, () => {
  let harness: Harness;
  let page: Page;

  before(async () => {
    assert.ok(existsSync(VSIX), `package the extension first (${VSIX})`);
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    harness = await startHarness({
      vsix: VSIX,
      files: { "hello.py": HELLO, "data.txt": "some input data\n", "long.py": LONG, "dynamic.py": DYNAMIC },
    });
    page = harness.page;
    await page.locator(".statusbar-item", { hasText: "DataSphere" }).first().waitFor({ timeout: 60_000 });
  });

  afterEach(async (context) => {
    if (page && !process.env.CI_NO_FAILSHOTS) {
      await page.screenshot({ path: join(harnessShotDir(), `${context.name.replace(/\W+/g, "-")}.png`) }).catch(() => undefined);
    }
  });

  after(async () => {
    if (process.env.DSJOBS_E2E_DEBUG) {
      console.log(harness?.logs.join("").slice(-4000));
    }
    await harness?.stop();
  });

  it("runs its server on the pinned interpreter, from its own environment", async () => {
    await page.locator(".statusbar-item", { hasText: "DataSphere" }).locator(".codicon-cloud").first().waitFor({ timeout: 240_000 });
    const [pid] = await waitUntil("the language server", () => Promise.resolve(languageServerPids(harness.stateDir)), (p) => p.length === 1);
    const command = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0] ?? "";
    assert.ok(command.startsWith(join(harness.userData, "User", "globalStorage")), `from global storage: ${command}`);
    // The same Python binary as datasphere.pythonPath (3.10 where present: scripts/test.sh pins it).
    assert.equal(realpathSync(`/proc/${pid}/exe`), realpathSync(pinnedPython(harness.home)));
  });

  it("runs a file from the explorer menu through the configuration form", async () => {
    const form = await openForm(page, "hello.py");
    await fillTextarea(form, "inputs", "missing.csv");
    const inputsError = form.locator("#inputs-error");
    await waitUntil("the server's error beside Inputs", () => inputsError.innerText(), (t) => t.includes("missing.csv"), 20_000);
    await screenshot(page, "form-field-error");
    await fillTextarea(form, "inputs", "data.txt");
    await waitUntil("the Inputs error to clear", () => inputsError.innerText(), (t) => t.trim() === "", 20_000);
    await fillTextarea(form, "outputs", "result.txt");
    await openTab(form, "ADVANCED");
    await form.locator("#jobName input").fill("hello-e2e");
    await openTab(form, "BASIC");
    await page.waitForTimeout(800);
    await screenshot(page, "form");
    await form.locator("#save").click();
    await waitUntil("Save to report the launch.json", () => form.locator("#status").innerText(), (t) => t.includes("launch.json"), 20_000);
    const launch = readFileSync(join(harness.workspace, ".vscode", "launch.json"), "utf8");
    assert.match(launch, /"type": "datasphere"/);
    assert.match(launch, /result\.txt/);
    await form.locator("#invoke").click();
    // The console list renders only the rows in view: give it the whole window while the run is checked.
    await debugConsoleText(page);
    await runCommand(page, "View: Toggle Maximized Panel");

    const console = await waitUntil(
      "the job's console sequence in the Debug Console",
      () => debugConsoleText(page),
      (text) => /job link: \S+/.test(text) && /created job \S+/.test(text),
      120_000,
    );
    assert.match(console, /creating job/);
    assert.match(console, /executing job/);
    await waitUntil("the program's output in the Debug Console", () => debugConsoleText(page), (t) => t.includes("hello from dsjobs: some input data"), 120_000);
    await waitUntil(
      "the debug session to end with the job",
      () => page.locator(".debug-toolbar").isVisible(),
      (visible) => !visible,
      120_000,
    );
    const ended = await debugConsoleText(page);
    assert.match(ended, /files are downloaded/, "the session ends after the outputs are in");
    assertInOrder(ended, ["job process started", "hello from dsjobs: some input data", "the job process exited", "job completed successfully"]);
    await waitUntil(
      "every progress notification to close once the run is over",
      () => page.locator(".notifications-toasts .notification-list-item", { hasText: "DataSphere Jobs:" }).count(),
      (open) => open === 0,
      5_000,
    );
    await screenshot(page, "debug-console");
    await runCommand(page, "View: Toggle Maximized Panel");
  });

  it("exports the form as config.yaml and loads it back", async () => {
    const form = webview(page);
    const target = join(harness.workspace, "config.yaml");
    await form.locator("#export").click();
    await answerFileDialog(page, target);
    await waitUntil("Export to report the file", () => form.locator("#status").innerText(), (t) => t.includes("config.yaml"), 20_000);
    const yaml = readFileSync(target, "utf8");
    assert.match(yaml, /cmd:.*hello\.py/);
    assert.match(yaml, /result\.txt/);

    await form.locator("#load").click();
    await answerFileDialog(page, target);
    await waitUntil("the form to show the loaded file", () => form.locator("#source").innerText(), (t) => t.includes("config.yaml"), 20_000);
    const outputs = await form.locator("#outputs").evaluate((el) => (el as HTMLElement & { value: string }).value);
    assert.match(outputs, /result\.txt/);
  });

  it("shows the program's output in the Invocation channel and downloads the outputs", async () => {
    const text = await waitUntil(
      "the Invocation channel",
      () => outputChannelText(page, "DataSphere Jobs Invocation"),
      (t) => t.includes("hello from dsjobs: some input data"),
      30_000,
    );
    assert.match(text, /a warning on stderr/);
    const result = join(harness.workspace, "result.txt");
    await waitUntil("result.txt to be downloaded", () => Promise.resolve(existsSync(result)), (present) => present, 30_000);
    assert.equal(readFileSync(result, "utf8"), "SOME INPUT DATA\n");
    const toolkit = await outputChannelText(page, "DataSphere Jobs Toolkit");
    assert.match(toolkit, /finished: Succeeded, exit code 0/);
  });

  it("lists the job in Launch History as succeeded", async () => {
    await openDatasphereContainer(page);
    const row = historyRow(page, "hello-e2e");
    await row.waitFor({ timeout: 30_000 });
    await waitUntil("the row to say Succeeded", () => row.innerText(), (t) => t.includes("Succeeded"), 30_000);
    assert.ok(await row.locator(".codicon-pass").count(), "a succeeded job has the pass icon");
    await screenshot(page, "history");
  });

  it("copies the job ID and attaches to the finished job from the history panel", async () => {
    const row = historyRow(page, "hello-e2e");
    await row.click({ button: "right" });
    await clickMenuEntry(page, "Copy job ID");
    const copied = await waitUntil(
      "the job ID on the clipboard",
      () => page.evaluate(() => navigator.clipboard.readText()),
      (text) => /^[0-9a-z]{20}$/.test(text),
      10_000,
    );
    await row.click({ button: "right" });
    await clickMenuEntry(page, "Attach");
    await waitUntil("the attach session", () => debugConsoleText(page), (t) => t.includes(`attaching to job \`${copied}\``), 30_000);
    await waitUntil("the attach session to end", () => page.locator(".debug-toolbar").isVisible(), (v) => !v, 60_000);
    const attached = await debugConsoleText(page);
    assert.equal(attached.match(/attaching to job/g)?.length, 1, `one "attaching to job" line:\n${attached}`);
    // Attach to a finished job replays its whole program output (issue 9 §4), stdout and stderr.
    const replayed = attached.slice(attached.indexOf("attaching to job"));
    assert.match(replayed, /hello from dsjobs: some input data/);
    assert.match(replayed, /a warning on stderr/);
    await page.waitForTimeout(1_000); // the channel's file is written asynchronously
    const toolkit = outputChannelFile(harness.userData, "DataSphere Jobs Toolkit");
    assert.equal(toolkit.match(/job hello-e2e finished: /g)?.length, 1, `one outcome line per job, attach included:\n${toolkit}`);
  });

  it("opens the job form from the editor title's run menu", async () => {
    await closeAllEditors(page);
    await openFile(page, "hello.py");
    await page.locator('.part.editor .editor-actions .action-label[aria-label^="Run File in DataSphere Jobs"]').first().click();
    const form = webview(page);
    await waitUntil(
      "the form for the open file",
      () => form.locator("#program").evaluate((el) => (el as HTMLElement & { value: string }).value),
      (value) => value.endsWith("hello.py"),
      60_000,
    );
    await page.locator(".tabs-container .tab.active", { hasText: "DataSphere Job Configuration: hello.py" }).waitFor();
  });

  it("runs the saved launch.json entry from Run and Debug", async () => {
    await closeAllEditors(page);
    const launch = JSON.parse(readFileSync(join(harness.workspace, ".vscode", "launch.json"), "utf8")) as {
      configurations: { type: string; name: string }[];
    };
    const entry = launch.configurations.find((configuration) => configuration.type === "datasphere");
    assert.ok(entry, "Save wrote a datasphere entry");
    const known = new Set([...invocationJobIds(harness.userData), ...jobIdsIn(await debugConsoleText(page))]);
    await selectDebugConfiguration(page, entry.name);
    await waitUntil("the entry to be selected", () => selectedDebugConfiguration(page), (name) => name.startsWith(entry.name), 10_000);
    await runCommand(page, "Notifications: Clear All Notifications");
    // Open again for the picture: the selected entry is ticked, the dynamic DataSphere Jobs... entry below it.
    await page.locator(".start-debug-action-item-dropdown-label").click();
    await page.locator('input[placeholder^="Search configurations"]').waitFor();
    await screenshot(page, "run-and-debug");
    await page.keyboard.press("Escape");
    await page.locator('input[placeholder^="Search configurations"]').waitFor({ state: "hidden" });
    await runCommand(page, "View: Toggle Maximized Panel");
    await startDebugging(page);
    const run = await followNewRun(page, known, "hello from dsjobs: some input data");
    await runCommand(page, "View: Toggle Maximized Panel");
    assert.match(run.console, /files are downloaded/);
    const invocation = await waitUntil(
      "the program's output in the Invocation channel",
      () => Promise.resolve(outputChannelFile(harness.userData, "DataSphere Jobs Invocation")),
      (text) => text.includes(`----- job ${run.jobId} -----`),
      30_000,
    );
    // stdout and stderr are two pipes read apart: their lines keep each stream's order, not one across both.
    assertInOrder(invocation, [`----- job ${run.jobId} -----`, "hello from dsjobs: some input data"]);
    assertInOrder(invocation, [`----- job ${run.jobId} -----`, "a warning on stderr"]);
  });

  it("runs the open file through the dynamic Run File in DataSphere Jobs configuration", async () => {
    await openFile(page, "dynamic.py");
    const known = new Set([...invocationJobIds(harness.userData), ...jobIdsIn(await debugConsoleText(page))]);
    await selectDebugConfiguration(page, "DataSphere Jobs...");
    const pick = page.locator(".quick-input-list .monaco-list-row", { hasText: "Run File in DataSphere Jobs" }).first();
    await pick.waitFor();
    await pick.click();
    await waitUntil(
      "the dynamic configuration to be selected",
      () => selectedDebugConfiguration(page),
      (name) => name.startsWith("Run File in DataSphere Jobs"),
      10_000,
    );
    await runCommand(page, "View: Toggle Maximized Panel");
    // F5 this time (the green button started the previous run): it starts the selected configuration.
    await page.keyboard.press("F5");
    const run = await followNewRun(page, known, "hello from the dynamic configuration");
    await runCommand(page, "View: Toggle Maximized Panel");
    const invocation = await waitUntil(
      "the program's output in the Invocation channel",
      () => Promise.resolve(outputChannelFile(harness.userData, "DataSphere Jobs Invocation")),
      (text) => text.includes(`----- job ${run.jobId} -----`),
      30_000,
    );
    assertInOrder(invocation, [`----- job ${run.jobId} -----`, "hello from the dynamic configuration"]);
  });

  it("cancels a long job from the history panel", async () => {
    await closeAllEditors(page);
    const form = await openForm(page, "long.py");
    await openTab(form, "ADVANCED");
    await form.locator("#jobName input").fill("long-e2e");
    await form.locator("#invoke").click();
    await openDatasphereContainer(page);
    const row = historyRow(page, "long-e2e");
    await waitUntil("the long job in Launch History", () => row.count(), (n) => n > 0, 90_000);
    await waitUntil("the long job to execute", () => debugConsoleText(page), (t) => t.includes("long job step 1"), 120_000);
    assert.ok(await row.locator(".codicon-loading").count(), "a running job has a spinning icon");
    assert.ok(await page.locator(".statusbar-item", { hasText: "DataSphere job long-e2e" }).count(), "the status bar shows the running job");
    await screenshot(page, "history-running");
    await row.click({ button: "right" });
    await clickMenuEntry(page, "Cancel");
    await waitUntil("the row to say Cancelled", () => row.innerText(), (t) => t.includes("Cancelled"), 60_000);
    // A cancel the user asked for is information, naming the job as the history does; never a red error.
    const cancelled = page.locator(".notifications-toasts .notification-list-item", { hasText: "DataSphere job long-e2e was cancelled" });
    await cancelled.waitFor({ timeout: 60_000 });
    assert.ok(await cancelled.locator(".codicon-info").count(), "an information message");
    assert.equal(await page.locator(".notifications-toasts .notification-list-item", { hasText: /ended with CANCELLED/ }).count(), 0);
    await waitUntil("the closing line in the Debug Console", () => debugConsoleText(page), (t) => /status CANCELLED/.test(t), 30_000);
    const closing = page.locator(".repl .monaco-list-row", { hasText: /status CANCELLED/ }).first();
    const classes = (await closing.locator(".value").first().getAttribute("class", { timeout: 10_000 })) ?? "";
    assert.doesNotMatch(classes, /\berror\b/, "the closing line of a cancelled job is not shown as an error");
    await waitUntil("the debug session to end", () => page.locator(".debug-toolbar").isVisible(), (v) => !v, 60_000);
  });

  it("restarts the language server after it crashes, history intact", async () => {
    const [before] = languageServerPids(harness.stateDir);
    assert.ok(before, "the language server runs");
    process.kill(before, "SIGKILL");
    const after = await waitUntil(
      "a new language server",
      () => Promise.resolve(languageServerPids(harness.stateDir)),
      (pids) => pids.length === 1 && pids[0] !== before,
      60_000,
    );
    assert.notEqual(after[0], before);
    await page.locator(".statusbar-item", { hasText: "DataSphere" }).locator(".codicon-cloud").first().waitFor({ timeout: 30_000 });
    await openDatasphereContainer(page);
    await page.locator('.pane-header:has-text("Launch History") .action-label[aria-label^="Refresh"]').click();
    await waitUntil("the history after the restart", () => historyRow(page, "hello-e2e").first().innerText(), (t) => t.includes("Succeeded"), 30_000);
    // The Toolkit channel's last word on the server is that it runs again, not that it stopped.
    const lastServerLine = (text: string): string | undefined =>
      text.split("\n").filter((line) => /server (is running|stopped unexpectedly|is not running|failed)/.test(line)).at(-1);
    await waitUntil(
      "the Toolkit channel to say the server runs again",
      () => Promise.resolve(lastServerLine(outputChannelFile(harness.userData, "DataSphere Jobs Toolkit"))),
      (line) => line?.includes("The DataSphere Jobs server is running.") ?? false,
      10_000,
    );
  });

  it("sets and removes the OAuth token", async () => {
    await runCommand(page, "DataSphere Jobs: Set OAuth token");
    const dialog = page.locator(".monaco-dialog-box");
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /OAuth-token page/);
    await dialog.locator(".monaco-button", { hasText: "Cancel" }).click();
    const title = page.locator(".quick-input-widget .quick-input-title");
    await waitUntil("the input box title", () => title.innerText(), (t) => t.includes("Input OAuth-token"), 10_000);
    const input = page.locator(".quick-input-widget input.input");
    assert.equal(await input.getAttribute("type"), "password");
    await input.fill("y0_e2eTestToken0123456789");
    await input.press("Enter");
    await page.locator(".notifications-toasts", { hasText: "OAuth token saved" }).waitFor({ timeout: 15_000 });
    await runCommand(page, "DataSphere Jobs: Remove OAuth token");
    await page.locator(".notifications-toasts", { hasText: "OAuth token removed" }).waitFor({ timeout: 15_000 });
    const logs = readLogFiles(join(harness.userData, "logs"));
    assert.match(logs, /dsjobs\.removeToken/, "JSON-RPC messages are traced in this test");
    assert.doesNotMatch(logs, /y0_e2eTestToken0123456789/, "the token never reaches a log, even when traced");
  });

  it("shows a failed server setup in a modal with the fix, and the status bar says so", async () => {
    const wheelhouse = join(harness.userData, "..", "empty-wheelhouse");
    mkdirSync(wheelhouse, { recursive: true });
    const settingsFile = join(harness.userData, "User", "settings.json");
    const settings = JSON.parse(readFileSync(settingsFile, "utf8")) as Record<string, unknown>;
    const edited = JSON.stringify({ ...settings, "datasphere.serverWheelhouse": wheelhouse }, null, 2);
    // As a user would: edit settings.json in the editor and save (an offline wheelhouse without the wheels).
    await runCommand(page, "Preferences: Open User Settings (JSON)");
    await page.locator(".editor-instance .monaco-editor textarea").first().waitFor();
    await page.evaluate((text) => navigator.clipboard.writeText(text), edited);
    await page.keyboard.press("Control+A");
    await page.keyboard.press("Control+V");
    await page.keyboard.press("Control+S");
    const dialog = page.locator(".monaco-dialog-box");
    await dialog.waitFor({ timeout: 120_000 });
    const text = await dialog.innerText();
    assert.match(text, /Setting up the DataSphere Jobs server failed/);
    assert.match(text, /serverWheelhouse/, "the dialog names the fix");
    assert.ok(await dialog.locator(".monaco-button", { hasText: "Retry" }).count(), "the dialog offers Retry");
    await screenshot(page, "setup-failed");
    await dialog.locator(".monaco-button", { hasText: "Show Log" }).click();
    await page.locator(".statusbar-item", { hasText: "DataSphere: not set up" }).waitFor({ timeout: 10_000 });
  });
});
