/**
 * A VS Code whose only Python is too old for the server: the extension says so in a dialog that stays (not a
 * toast), names what it tried and the fix, and the status bar keeps saying it; Run File then does not leave
 * an empty form.
 */

import assert from "node:assert/strict";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import { CLIENT_DIR, SCREENSHOT_DIR, startHarness, type Harness } from "./harness";
import { explorerContextMenu, runCommand, screenshot, waitUntil, webview } from "./workbench";

const VSIX = process.env.DSJOBS_VSIX ?? join(CLIENT_DIR, "dsjobs-vscode.vsix");
/** A Python older than 3.10 (pyenv's, where present). */
const OLD_PYTHON = process.env.DSJOBS_E2E_OLD_PYTHON ?? "/root/.pyenv/versions/3.9.18/bin/python3.9";

describe("DataSphere Jobs without a suitable Python", { timeout: 5 * 60_000, skip: !existsSync(OLD_PYTHON) && `no ${OLD_PYTHON}` }, () => {
  let harness: Harness;
  let page: Page;
  let bin: string;

  before(async () => {
    mkdirSync(SCREENSHOT_DIR, { recursive: true });
    // The login shell's PATH holds one folder whose python3 is too old (and no python3.10+).
    bin = mkdtempSync(join(tmpdir(), "dsjobs-old-python-"));
    symlinkSync(OLD_PYTHON, join(bin, "python3"));
    harness = await startHarness({
      vsix: VSIX,
      files: { "job.py": 'print("never runs")\n' },
      settings: { "datasphere.pythonPath": undefined },
      loginPath: [bin],
    });
    page = harness.page;
  });

  afterEach(async (context) => {
    await page?.screenshot({ path: join(tmpdir(), `dsjobs-no-python-${context.name.replace(/\W+/g, "-")}.png`) }).catch(() => undefined);
  });

  after(async () => {
    await harness?.stop();
    rmSync(bin, { recursive: true, force: true });
  });

  it("says in a dialog that Python 3.10+ is needed, what it tried and what to do", async () => {
    const dialog = page.locator(".monaco-dialog-box");
    await dialog.waitFor({ timeout: 120_000 });
    const text = await dialog.innerText();
    assert.match(text, /needs Python 3\.10 or newer/);
    assert.match(text, /python3 \(3\.9\)/, "it names the Python it found too old");
    assert.match(text, /datasphere\.pythonPath/);
    assert.ok(await dialog.locator(".monaco-button", { hasText: "Retry" }).count());
    await screenshot(page, "no-python");
    await dialog.locator(".monaco-button", { hasText: "Cancel" }).click();
    await page.locator(".statusbar-item", { hasText: "DataSphere: not set up" }).waitFor({ timeout: 10_000 });
  });

  it("shows the reason in the form rather than an empty form", async () => {
    await runCommand(page, "View: Show Explorer");
    await explorerContextMenu(page, "job.py", "Run File in DataSphere Jobs");
    const form = webview(page);
    await form.locator("#status").waitFor({ timeout: 60_000 });
    await waitUntil("the form to say why it is empty", () => form.locator("#status").innerText(), (t) => /Python 3\.10 or newer/.test(t), 60_000);
  });
});
