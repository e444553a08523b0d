/** The extension's settings (`datasphere.*`) and what the language server receives from them. Pure module. */

export type Backend = "local" | "cloud";

export interface DatasphereSettings {
  project: string;
  yandexCloudConsolePath: string;
  serviceAccountKeyFile: string;
  backend: Backend;
  pythonPath: string;
  serverInstallSource: string;
  serverWheelhouse: string;
}

/** The part of `vscode.WorkspaceConfiguration` this module needs (so tests can pass a plain object). */
export interface SettingsReader {
  get<T>(section: string): T | undefined;
}

/** Settings the language server cares about: a change of any of them is sent to it. */
export const SERVER_SETTING_KEYS = ["project", "yandexCloudConsolePath", "serviceAccountKeyFile", "backend"] as const;

/** Settings whose change needs a server restart (a different interpreter). */
export const RESTART_SETTING_KEYS = ["pythonPath", "serverInstallSource", "serverWheelhouse"] as const;

/** Reads `datasphere.*` settings, trimming strings and falling back to defaults for bad values. */
export function readSettings(config: SettingsReader): DatasphereSettings {
  const text = (key: string): string => {
    const value = config.get<unknown>(key);
    return typeof value === "string" ? value.trim() : "";
  };
  const backend = text("backend") === "cloud" ? "cloud" : "local";
  return {
    project: text("project"),
    yandexCloudConsolePath: text("yandexCloudConsolePath"),
    serviceAccountKeyFile: text("serviceAccountKeyFile"),
    backend,
    pythonPath: text("pythonPath"),
    serverInstallSource: text("serverInstallSource"),
    serverWheelhouse: text("serverWheelhouse"),
  };
}

/** The settings part of the protocol (§2): empty strings become `null` (= the server's default). */
export interface ServerSettings {
  backend: Backend;
  projectId: string | null;
  ycPath: string | null;
  serviceAccountKeyFile: string | null;
}

export interface InitializationOptions extends ServerSettings {
  storagePath: string;
}

/** Settings → the payload of `workspace/didChangeConfiguration` (`dsjobs` section). */
export function serverSettings(settings: DatasphereSettings): ServerSettings {
  return {
    backend: settings.backend,
    projectId: settings.project || null,
    ycPath: settings.yandexCloudConsolePath || null,
    serviceAccountKeyFile: settings.serviceAccountKeyFile || null,
  };
}

/** Settings + the extension's global storage folder → `initialize.params.initializationOptions`. */
export function initializationOptions(settings: DatasphereSettings, storagePath: string): InitializationOptions {
  return { storagePath, ...serverSettings(settings) };
}

/** The `workspace/didChangeConfiguration` notification's params. */
export function didChangeConfigurationParams(settings: DatasphereSettings): { settings: { dsjobs: ServerSettings } } {
  return { settings: { dsjobs: serverSettings(settings) } };
}

/** Which of the given dotted keys (relative to `datasphere.`) a configuration change touched. */
export function changedKeys(affects: (section: string) => boolean, keys: readonly string[]): string[] {
  return keys.filter((key) => affects(`datasphere.${key}`));
}
