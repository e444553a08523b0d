/**
 * The server's private environment in the extension's global storage: found ready, or created from a Python
 * ≥ 3.10 and filled with the server wheel the .vsix ships (uv when found, else venv + pip). Never touches the
 * user's own environments.
 */

import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import * as path from "node:path";
import * as vscode from "vscode";
import {
  baseCandidates,
  envPython,
  environmentKey,
  installFailureHint,
  installSteps,
  isSupported,
  noPythonMessage,
  parseVersion,
  uvCandidates,
  VERSION_PROBE_ARGS,
  type InstallInputs,
} from "./installPlan";
import { readSettings } from "../settings";

/** Why the environment could not be made, and what fixes it (shown in a modal). */
export class ServerSetupError extends Error {
  constructor(
    message: string,
    readonly hint: string,
  ) {
    super(message);
  }
}

interface ProcessResult {
  code: number;
  output: string;
}

/** Runs a process; never rejects. Bytecode writing is on for installs (`--compile-bytecode` needs it). */
export function runProcess(command: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  const env = { ...process.env };
  delete env.PYTHONDONTWRITEBYTECODE;
  return new Promise((resolve) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, env }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && !stderr ? error.message : ""}` });
    });
  });
}

const MARKER = ".dsjobs-ready";
const LOCK_STALE_MS = 20 * 60_000;
const INSTALL_TIMEOUT_MS = 20 * 60_000;

/** The first Python ≥ 3.10 among the user's interpreter and PATH's pythons, with what was tried. */
async function findBasePython(userPython: string): Promise<{ python?: string; tried: string[] }> {
  const tried: string[] = [];
  for (const candidate of baseCandidates(userPython)) {
    const result = await runProcess(candidate, VERSION_PROBE_ARGS, 30_000);
    const version = result.code === 0 ? parseVersion(result.output) : undefined;
    tried.push(version ? `${candidate} (${version.join(".")})` : candidate);
    if (version && isSupported(version)) {
      return { python: candidate, tried };
    }
  }
  return { tried };
}

/** A uv executable: on PATH, beside the base Python, or where its installers put it. */
async function findUv(basePython: string): Promise<string | undefined> {
  for (const candidate of ["uv", ...uvCandidates(homedir(), basePython)]) {
    if ((await runProcess(candidate, ["--version"], 30_000)).code === 0) {
      return candidate;
    }
  }
  return undefined;
}

/** The dsjobs-lsp wheel shipped in the extension's `dist/server` folder. */
function bundledWheel(extensionPath: string): string | undefined {
  const folder = path.join(extensionPath, "dist", "server");
  const wheel = existsSync(folder) ? readdirSync(folder).find((name) => name.endsWith(".whl")) : undefined;
  return wheel ? path.join(folder, wheel) : undefined;
}

function sha256(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

/** Waits while another window installs the same environment (its lock folder), up to the lock's staleness. */
async function waitForOtherInstall(lock: string, envDir: string): Promise<void> {
  while (existsSync(lock) && !existsSync(path.join(envDir, MARKER))) {
    if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) {
      rmSync(lock, { recursive: true, force: true });
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

/** Takes the install lock (a folder: mkdir is atomic); false when another window holds it. */
function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
    return true;
  } catch {
    return false;
  }
}

/** Removes the environments of older wheels (best effort). */
function removeOtherEnvironments(storage: string, keep: string): void {
  for (const name of readdirSync(storage)) {
    if (name.startsWith("server-") && name !== keep && !name.endsWith(".lock")) {
      rmSync(path.join(storage, name), { recursive: true, force: true });
    }
  }
}

export interface EnvironmentRequest {
  extensionPath: string;
  storagePath: string;
  /** The user's interpreter (analysis runs there); tried first as the environment's base. */
  userPython: string;
  log: vscode.OutputChannel;
  /** Called when an install begins (the environment was not ready). */
  onSetup(): void;
}

/**
 * The Python of the server's private environment, created and filled first if needed (with a progress
 * notification). Throws ServerSetupError with the fix when no Python ≥ 3.10 exists or the install failed.
 */
export async function ensureServerEnvironment(request: EnvironmentRequest): Promise<string> {
  const settings = readSettings(vscode.workspace.getConfiguration("datasphere"));
  const inputs: InstallInputs = {
    bundledWheel: bundledWheel(request.extensionPath),
    installSource: settings.serverInstallSource,
    wheelhouse: settings.serverWheelhouse,
  };
  const wheelDigest = inputs.bundledWheel ? sha256(readFileSync(inputs.bundledWheel)) : "";
  const name = `server-${environmentKey(inputs, wheelDigest, sha256)}`;
  const envDir = path.join(request.storagePath, name);
  const python = envPython(envDir);
  if (existsSync(path.join(envDir, MARKER))) {
    return python;
  }
  mkdirSync(request.storagePath, { recursive: true });
  const lock = `${envDir}.lock`;
  await waitForOtherInstall(lock, envDir);
  if (existsSync(path.join(envDir, MARKER))) {
    return python;
  }
  if (!takeLock(lock)) {
    return ensureServerEnvironment(request);
  }
  try {
    request.onSetup();
    await install({ ...request, inputs, envDir });
    removeOtherEnvironments(request.storagePath, name);
    return python;
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

async function install(request: EnvironmentRequest & { inputs: InstallInputs; envDir: string }): Promise<void> {
  const { log, envDir } = request;
  await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: "DataSphere Jobs: setting up the server (first run)" },
    async (progress) => {
      progress.report({ message: "looking for Python 3.10+" });
      const { python: basePython, tried } = await findBasePython(request.userPython);
      if (!basePython) {
        throw new ServerSetupError(noPythonMessage(tried), "");
      }
      const uv = await findUv(basePython);
      log.appendLine(`Setting up the server's environment in ${envDir} from ${basePython}${uv ? ` with ${uv}` : " with venv and pip"}.`);
      rmSync(envDir, { recursive: true, force: true });
      for (const step of installSteps({ ...request.inputs, basePython, uv, envDir })) {
        progress.report({ message: step.title });
        log.appendLine(`$ ${step.command} ${step.args.join(" ")}`);
        const result = await runProcess(step.command, step.args, INSTALL_TIMEOUT_MS);
        log.appendLine(result.output.trimEnd());
        if (result.code !== 0) {
          rmSync(envDir, { recursive: true, force: true });
          throw new ServerSetupError(
            `Setting up the DataSphere Jobs server failed while ${step.title} (exit code ${result.code}).`,
            installFailureHint(result.output),
          );
        }
      }
      writeFileSync(path.join(envDir, MARKER), `${basePython}\n`);
      log.appendLine("The server's environment is ready.");
    },
  );
}
