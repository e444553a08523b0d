/** Which Python runs the language server, and the commands to check and install dsjobs_lsp there. Pure module. */

export interface InterpreterSources {
  /** The Python extension's active interpreter for the workspace, when that extension is installed. */
  fromPythonExtension: string | undefined;
  /** The setting `datasphere.pythonPath`. */
  setting: string;
}

export const FALLBACK_PYTHON = "python3";

/** True when `datasphere.pythonPath` decides the interpreter (the Python extension need not be asked). */
export function settingDecides(setting: string): boolean {
  return setting.trim().length > 0;
}

/** An explicitly set `datasphere.pythonPath`, else the Python extension's interpreter, else `python3`. */
export function pickInterpreter(sources: InterpreterSources): string {
  return sources.setting.trim() || sources.fromPythonExtension?.trim() || FALLBACK_PYTHON;
}

/** Arguments that start the language server over stdio. */
export const SERVER_ARGS: readonly string[] = ["-m", "dsjobs_lsp"];

/** Arguments that exit 0 exactly when `dsjobs_lsp` is importable. */
export const IMPORT_CHECK_ARGS: readonly string[] = ["-c", "import dsjobs_lsp"];

/** Arguments of `python -m pip install <source>` for the configured install source. */
export function installArgs(source: string): string[] {
  const trimmed = source.trim();
  if (!trimmed) {
    throw new Error("The setting datasphere.serverInstallSource is empty: nothing to install.");
  }
  return ["-m", "pip", "install", "--disable-pip-version-check", trimmed];
}
