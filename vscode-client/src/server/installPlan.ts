/**
 * The server's private environment: which Python it is built from, where it lives, and the commands that
 * create it (uv when found, else `python -m venv` + pip). Pure module: no VS Code, no processes.
 */

import * as path from "node:path";

/** The oldest Python the server runs on (`requires-python` of dsjobs-lsp). */
export const MIN_PYTHON: readonly [number, number] = [3, 10];

/** Prints `major.minor` of the interpreter it runs in. */
export const VERSION_PROBE_ARGS: readonly string[] = ["-c", "import sys; print('%d.%d' % sys.version_info[:2])"];

/** `"3.11"` → `[3, 11]`; undefined for anything else. */
export function parseVersion(text: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)\s*$/.exec(text.trim());
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

/** True when the version is at least MIN_PYTHON. */
export function isSupported(version: readonly [number, number]): boolean {
  return version[0] > MIN_PYTHON[0] || (version[0] === MIN_PYTHON[0] && version[1] >= MIN_PYTHON[1]);
}

/** Pythons to try as the base of the server's environment: the user's interpreter first, then PATH's newest. */
export function baseCandidates(userPython: string): string[] {
  const names = [userPython, "python3.13", "python3.12", "python3.11", "python3.10", "python3"];
  return [...new Set(names.filter((name) => name.trim().length > 0))];
}

/** What to install and how, from the settings and what the .vsix ships. */
export interface InstallInputs {
  /** The dsjobs-lsp wheel inside the extension (undefined when the .vsix was built without it). */
  bundledWheel: string | undefined;
  /** `datasphere.serverInstallSource`: a requirement, wheel or folder that replaces the bundled wheel. */
  installSource: string;
  /** `datasphere.serverWheelhouse`: a folder of wheels to install from instead of the package index. */
  wheelhouse: string;
}

/** The requirement installed into the environment: the override, else the bundled wheel. */
export function installTarget(inputs: InstallInputs): string | undefined {
  return inputs.installSource.trim() || inputs.bundledWheel;
}

/**
 * A stable short name for what is installed: another wheel (by content: a rebuilt wheel of the same version
 * counts), install source or wheelhouse gets a new environment.
 */
export function environmentKey(inputs: InstallInputs, wheelDigest: string, hash: (text: string) => string): string {
  const source = inputs.installSource.trim() || wheelDigest;
  return hash(`${source}\n${inputs.wheelhouse.trim()}`).slice(0, 12);
}

/** One process to run. */
export interface Step {
  command: string;
  args: string[];
  /** What the progress notification says while it runs. */
  title: string;
}

export interface PlanInputs extends InstallInputs {
  /** The Python the environment is created from (≥ MIN_PYTHON). */
  basePython: string;
  /** A uv executable, when one was found. */
  uv: string | undefined;
  /** Folder the environment is created in. */
  envDir: string;
}

/** The environment's interpreter. */
export function envPython(envDir: string, platform: NodeJS.Platform = process.platform): string {
  return platform === "win32" ? path.join(envDir, "Scripts", "python.exe") : path.join(envDir, "bin", "python");
}

/** `--no-index --find-links <wheelhouse>` when a wheelhouse is set: installs never reach an index then. */
function wheelhouseArgs(wheelhouse: string): string[] {
  return wheelhouse.trim() ? ["--no-index", "--find-links", wheelhouse.trim()] : [];
}

/** The commands that create the environment and install the server into it (bytecode compiled). */
export function installSteps(inputs: PlanInputs): Step[] {
  const target = installTarget(inputs);
  if (!target) {
    throw new Error("This build of the extension ships no server wheel: set datasphere.serverInstallSource.");
  }
  const python = envPython(inputs.envDir);
  const sources = wheelhouseArgs(inputs.wheelhouse);
  if (inputs.uv) {
    return [
      { command: inputs.uv, args: ["venv", "--quiet", "--python", inputs.basePython, inputs.envDir], title: "creating its environment" },
      {
        command: inputs.uv,
        args: ["pip", "install", "--python", python, "--compile-bytecode", ...sources, target],
        title: "installing the server and its dependencies",
      },
    ];
  }
  return [
    { command: inputs.basePython, args: ["-m", "venv", inputs.envDir], title: "creating its environment" },
    {
      command: python,
      args: ["-m", "pip", "install", "--disable-pip-version-check", "--compile", ...sources, target],
      title: "installing the server and its dependencies",
    },
  ];
}

/** Places a uv executable is usually installed (its installer, pipx, cargo), after PATH. */
export function uvCandidates(home: string, basePython: string, platform: NodeJS.Platform = process.platform): string[] {
  const exe = platform === "win32" ? "uv.exe" : "uv";
  return [
    path.join(path.dirname(basePython), exe),
    path.join(home, ".local", "bin", exe),
    path.join(home, ".cargo", "bin", exe),
  ];
}

/** The fix a user is shown when no Python ≥ MIN_PYTHON was found. */
export function noPythonMessage(tried: string[]): string {
  const min = MIN_PYTHON.join(".");
  return (
    `DataSphere Jobs needs Python ${min} or newer to run its server, and none was found (tried: ${tried.join(", ")}). ` +
    `Install Python ${min}+ (e.g. "sudo apt install python3" or python.org), or point the setting ` +
    `datasphere.pythonPath at one, then choose Retry.`
  );
}

/** The hint shown when creating the environment failed: what usually fixes it. */
export function installFailureHint(output: string): string {
  if (/ensurepip is not available|No module named venv|python3-venv/i.test(output)) {
    return 'This Python cannot create virtual environments: install its venv module ("sudo apt install python3-venv") or uv, then choose Retry.';
  }
  if (/network|connect|resolve|index|No matching distribution|not found in the (package registry|cache|provided package locations)|unavailable/i.test(output)) {
    return "Installing the server's dependencies failed: check the package index your pip/uv is configured for, or set datasphere.serverWheelhouse to a folder of wheels (offline), then choose Retry.";
  }
  return "See the DataSphere Jobs Toolkit output for the installer's messages, then choose Retry.";
}
