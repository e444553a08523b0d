/** Finds the user's interpreter (setting, Python extension API, python3) and installs dsjobs_lsp into it on request. */

import { execFile } from "node:child_process";
import * as vscode from "vscode";
import { IMPORT_CHECK_ARGS, installArgs, pickInterpreter, settingDecides } from "./interpreter";
import { readSettings } from "../settings";

interface PythonExtensionApi {
  environments?: {
    getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
    resolveEnvironment(path: string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  };
}

async function pythonExtensionInterpreter(): Promise<string | undefined> {
  const extension = vscode.extensions.getExtension<PythonExtensionApi>("ms-python.python");
  if (!extension) {
    return undefined;
  }
  try {
    const api = extension.isActive ? extension.exports : await extension.activate();
    const environments = api?.environments;
    if (!environments) {
      return undefined;
    }
    const active = environments.getActiveEnvironmentPath(vscode.workspace.workspaceFolders?.[0]?.uri);
    const resolved = await environments.resolveEnvironment(active.path);
    return resolved?.executable.uri?.fsPath;
  } catch {
    return undefined;
  }
}

/** The interpreter that runs the server: `datasphere.pythonPath` → Python extension → `python3`. */
export async function resolveInterpreter(): Promise<string> {
  const setting = readSettings(vscode.workspace.getConfiguration("datasphere")).pythonPath;
  // The Python extension is activated only when the setting leaves the choice to it.
  const fromPythonExtension = settingDecides(setting) ? undefined : await pythonExtensionInterpreter();
  return pickInterpreter({ fromPythonExtension, setting });
}

interface ProcessResult {
  code: number;
  output: string;
}

function run(command: string, args: readonly string[], timeoutMs: number): Promise<ProcessResult> {
  return new Promise((resolve) => {
    execFile(command, [...args], { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, output: `${stdout}${stderr}${error && !stderr ? error.message : ""}` });
    });
  });
}

/** True when `import dsjobs_lsp` works in the interpreter. */
export async function serverImportable(python: string): Promise<boolean> {
  return (await run(python, IMPORT_CHECK_ARGS, 60_000)).code === 0;
}

/**
 * Offers to pip-install dsjobs_lsp into the interpreter (from `datasphere.serverInstallSource`).
 * Resolves true when it is importable afterwards.
 */
export async function offerServerInstall(python: string, log: vscode.OutputChannel): Promise<boolean> {
  const source = readSettings(vscode.workspace.getConfiguration("datasphere")).serverInstallSource;
  const choice = await vscode.window.showWarningMessage(
    `The DataSphere Jobs language server (Python package dsjobs_lsp) is not installed in ${python}. Install it from "${source}"?`,
    "Install",
    "Choose Interpreter Setting",
  );
  if (choice === "Choose Interpreter Setting") {
    await vscode.commands.executeCommand("workbench.action.openSettings", "datasphere.pythonPath");
    return false;
  }
  if (choice !== "Install") {
    return false;
  }
  const args = installArgs(source);
  log.appendLine(`Installing: ${python} ${args.join(" ")}`);
  const result = await vscode.window.withProgress(
    { location: vscode.ProgressLocation.Notification, title: `Installing dsjobs_lsp into ${python}` },
    () => run(python, args, 15 * 60_000),
  );
  log.appendLine(result.output);
  if (result.code !== 0 || !(await serverImportable(python))) {
    void vscode.window.showErrorMessage(`Installing dsjobs_lsp failed (exit code ${result.code}); see the DataSphere Jobs Toolkit output.`);
    log.show(true);
    return false;
  }
  return true;
}
