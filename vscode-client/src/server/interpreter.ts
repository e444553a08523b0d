/** Which Python is the user's (analysis runs there) and how the server is started. Pure module. */

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

/** Prints the absolute path of the interpreter (a `python3` on PATH or a pyenv shim becomes the real one). */
export const EXECUTABLE_PROBE_ARGS: readonly string[] = ["-c", "import sys; print(sys.executable)"];

/** The environment variable naming the user's interpreter to the server (analysis runs there). */
export const USER_PYTHON_ENV = "DSJOBS_PYTHON";
