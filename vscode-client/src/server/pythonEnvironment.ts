/** Finds the user's interpreter: the setting, the Python extension's selection, else python3. */

import * as vscode from "vscode";
import { EXECUTABLE_PROBE_ARGS, pickInterpreter, settingDecides } from "./interpreter";
import { runProcess } from "./serverEnvironment";
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

/** The user's interpreter (analysis runs there): `datasphere.pythonPath` → Python extension → `python3`. */
export async function resolveInterpreter(): Promise<string> {
  const setting = readSettings(vscode.workspace.getConfiguration("datasphere")).pythonPath;
  // The Python extension is activated only when the setting leaves the choice to it.
  const fromPythonExtension = settingDecides(setting) ? undefined : await pythonExtensionInterpreter();
  return pickInterpreter({ fromPythonExtension, setting });
}

/** The absolute path of the interpreter (`python3` resolved on PATH, shims followed); the name itself if it
 * does not run. */
export async function interpreterExecutable(python: string): Promise<string> {
  const result = await runProcess(python, EXECUTABLE_PROBE_ARGS, 30_000);
  const resolved = result.output.trim().split("\n").pop()?.trim();
  return result.code === 0 && resolved ? resolved : python;
}
