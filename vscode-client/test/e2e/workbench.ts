/** Playwright helpers that drive the VS Code workbench the way a user does (menus, palette, views, webviews). */

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { FrameLocator, Locator, Page } from "playwright-core";
import { SCREENSHOT_DIR } from "./harness";

/** Monaco renders spaces as no-break spaces. */
function normalize(text: string): string {
  return text.replace(/\u00a0/g, " ");
}

/** Runs a command from the command palette by its title. The palette is opened again when the workbench closed
 * it before the title was typed (a debug session or a panel that starts meanwhile takes the focus). */
export async function runCommand(page: Page, title: string): Promise<void> {
  const input = page.locator(".quick-input-widget input.input");
  const row = page.locator(".quick-input-list .monaco-list-row", { hasText: title }).first();
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press("F1");
    try {
      await input.waitFor({ timeout: 10_000 });
      await input.fill(`>${title}`, { timeout: 10_000 });
      await row.waitFor({ timeout: 10_000 });
      await input.press("Enter", { timeout: 10_000 });
      return;
    } catch (error) {
      if (attempt === 3) throw error;
    }
  }
}

/** Right-clicks a file in the Explorer and picks a context-menu entry. */
export async function explorerContextMenu(page: Page, fileName: string, entry: string): Promise<void> {
  const row = page.locator(`.explorer-viewlet .monaco-list-row[aria-label*="${fileName}"], .monaco-list-row[aria-label*="${fileName}"]`);
  await row.first().click({ button: "right" });
  await clickMenuEntry(page, entry);
}

export async function clickMenuEntry(page: Page, entry: string): Promise<void> {
  const item = page.locator(".monaco-menu .action-item:not(.disabled) .action-label", { hasText: new RegExp(`^${entry}$`) }).first();
  await item.hover();
  // The workbench ignores a click that lands right after the menu opened.
  await page.waitForTimeout(400);
  await item.click();
  const closed = await item
    .waitFor({ state: "hidden", timeout: 2000 })
    .then(() => true)
    .catch(() => false);
  if (!closed) {
    await item.press("Enter", { timeout: 2000 }).catch(() => undefined);
  }
}

/** The document of the most recently shown webview (code-server nests it in two iframes). */
export function webview(page: Page): FrameLocator {
  return page.frameLocator("iframe.webview.ready").last().frameLocator("#active-frame");
}

/** Opens the DataSphere Jobs activity-bar container. */
export async function openDatasphereContainer(page: Page): Promise<void> {
  const tab = page.locator('.activitybar .action-item a[aria-label^="DataSphere Jobs"]');
  if (!(await page.locator(".pane-header", { hasText: "Launch History" }).isVisible())) {
    await tab.click();
  }
  await page.locator(".pane-header", { hasText: "Launch History" }).waitFor();
}

/** A row of the Launch History tree. */
export function historyRow(page: Page, text: string | RegExp): Locator {
  return page.locator('.pane:has(.pane-header:has-text("Launch History")) .monaco-list-row', { hasText: text });
}

/** Text of the Debug Console. */
export async function debugConsoleText(page: Page): Promise<string> {
  if (!(await page.locator(".repl").first().isVisible())) {
    await page.locator(".part.panel .action-label", { hasText: "Debug Console" }).first().click().catch(() => undefined);
  }
  return normalize(await page.locator(".repl").first().innerText().catch(() => ""));
}

/** Shows an output channel in the panel and returns its visible text. */
export async function outputChannelText(page: Page, channel: string): Promise<string> {
  await runCommand(page, "Output: Show Output Channels...");
  const input = page.locator(".quick-input-widget input.input");
  await input.fill(channel);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: channel }).first().click();
  const view = page.locator(".panel .output-view .view-lines, .panel .monaco-editor .view-lines").first();
  await view.waitFor();
  await page.waitForTimeout(300);
  return normalize(await view.innerText());
}

/** Polls until `read()` satisfies `ok`, or fails with the last value seen. */
export async function waitUntil<T>(what: string, read: () => Promise<T>, ok: (value: T) => boolean, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!ok(last)) {
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}; last seen:\n${String(last)}`);
    }
    await new Promise((r) => setTimeout(r, 500));
    last = await read();
  }
  if (process.env.DSJOBS_E2E_DEBUG) {
    console.log(`[e2e] ${what}: ${timeoutMs - (deadline - Date.now())} ms`);
  }
  return last;
}

export async function screenshot(page: Page, name: string): Promise<void> {
  // Finished transitions: a menu or notification just opened is pictured as it settles, not mid-fade.
  await page.screenshot({ path: join(SCREENSHOT_DIR, `${name}.png`), animations: "disabled" });
}

/** Closes every editor (forms included). */
export async function closeAllEditors(page: Page): Promise<void> {
  await runCommand(page, "View: Close All Editors");
  await page.waitForTimeout(300);
}

/** Opens a workspace file in an editor (Quick Open, as a user types it) and waits for its tab to be active. */
export async function openFile(page: Page, fileName: string): Promise<void> {
  await runCommand(page, "Go to File...");
  const input = page.locator(".quick-input-widget input.input");
  await input.fill(fileName);
  await page.locator(".quick-input-list .monaco-list-row", { hasText: fileName }).first().waitFor();
  await input.press("Enter");
  await page.locator(".tabs-container .tab.active", { hasText: fileName }).waitFor();
}

/** The configuration dropdown of the Run and Debug view (a drop-down menu in this VS Code, not a select box). */
function debugConfigurationDropdown(page: Page): Locator {
  return page.locator(".part.sidebar .start-debug-action-item .start-debug-action-item-dropdown-label");
}

/** Opens the Run and Debug view and waits for its configuration dropdown. */
export async function openRunAndDebug(page: Page): Promise<void> {
  await runCommand(page, "View: Show Run and Debug");
  await debugConfigurationDropdown(page).waitFor();
}

/** Picks an entry of the Run and Debug configuration dropdown. */
export async function selectDebugConfiguration(page: Page, entry: string): Promise<void> {
  await openRunAndDebug(page);
  await debugConfigurationDropdown(page).click();
  // The dropdown is a searchable list: narrow it to the entry, as a user would, then click the entry.
  const search = page.locator('input[placeholder^="Search configurations"]');
  await search.fill(entry);
  const row = page.locator(".monaco-list-row:visible", { hasText: entry }).last();
  await row.click();
  await search.waitFor({ state: "hidden" });
}

/** The configuration the Run and Debug dropdown shows as selected. */
export async function selectedDebugConfiguration(page: Page): Promise<string> {
  return normalize(await debugConfigurationDropdown(page).innerText());
}

/** Presses the green start button of the Run and Debug view. */
export async function startDebugging(page: Page): Promise<void> {
  await page.locator(".part.sidebar .start-debug-action-item .codicon-debug-start").click();
}

/** The whole of an output channel, from the log file VS Code backs it with (the view shows only a screenful). */
export function outputChannelFile(userData: string, channel: string): string {
  const logs = join(userData, "logs");
  const files = readdirSync(logs, { recursive: true, withFileTypes: true }).filter(
    (entry) => entry.isFile() && entry.name.endsWith(`${channel}.log`),
  );
  return files.map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8")).join("\n");
}

/** Waits until the server has filled the open configuration form for `file` (its Program field). */
export async function waitForFilledForm(page: Page, file: string): Promise<FrameLocator> {
  const form = webview(page);
  await form.locator("#program").waitFor({ timeout: 60_000 });
  await waitUntil(
    "the form to be filled by the server",
    () => form.locator("#program").evaluate((el) => (el as HTMLElement & { value: string }).value),
    (value) => value.endsWith(file),
    60_000,
  );
  return form;
}
