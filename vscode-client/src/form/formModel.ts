/**
 * The configuration form as data: the server's LaunchConfig ↔ the webview's field values, the messages
 * exchanged with the webview, and field errors placed beside their field. Pure module (shared by the
 * extension and the webview script).
 */

import type { FieldError, LaunchConfig, PythonBuild } from "../protocol";
import type { ResourceChoices } from "./localResources";

export const INSTANCE_TYPES = [
  "c1.4",
  "c1.8",
  "c1.32",
  "c1.80",
  "g1.1",
  "g1.2",
  "g1.4",
  "g2.1",
  "g2.2",
  "g2.4",
  "g2.8",
  "gt4.1",
  "gt4i.1",
] as const;

/** LaunchConfig keys edited as one value per line. */
export const LIST_FIELDS = [
  "args",
  "inputs",
  "outputs",
  "s3Mounts",
  "datasets",
  "envVars",
  "extraRootPaths",
  "extraIndexUrls",
] as const;

/** LaunchConfig keys edited as a single line; empty means "not set" (null). */
export const OPTIONAL_TEXT_FIELDS = [
  "projectId",
  "configFile",
  "dockerImage",
  "dockerUsername",
  "dockerPasswordSecret",
  "pythonVersion",
  "requirementsFile",
  "jobName",
  "jobDesc",
] as const;

/** LaunchConfig keys edited as a single line that always have a value. */
export const TEXT_FIELDS = ["name", "program", "workingDirectory", "instanceType"] as const;

export type ListField = (typeof LIST_FIELDS)[number];
export type OptionalTextField = (typeof OPTIONAL_TEXT_FIELDS)[number];
export type TextField = (typeof TEXT_FIELDS)[number];

/** What the webview's inputs hold: text (lists are newline-joined), the build method and the checkbox. */
export type FormValues = Record<ListField | OptionalTextField | TextField, string> & {
  pythonBuild: PythonBuild;
  noDependencies: boolean;
};

/** Field name → its error messages, `_form` for findings that belong to no field. */
export type FormErrors = Record<string, string[]>;

export const GENERAL_ERROR_KEY = "_form";

/** A LaunchConfig with every key at its default (what an empty form means). */
export function emptyLaunchConfig(): LaunchConfig {
  return {
    name: "",
    program: "",
    args: [],
    workingDirectory: "",
    inputs: [],
    outputs: [],
    projectId: null,
    configFile: null,
    instanceType: "c1.4",
    s3Mounts: [],
    datasets: [],
    envVars: [],
    dockerImage: null,
    dockerUsername: null,
    dockerPasswordSecret: null,
    pythonBuild: "auto",
    pythonVersion: null,
    requirementsFile: null,
    extraRootPaths: [],
    extraIndexUrls: [],
    noDependencies: false,
    jobName: null,
    jobDesc: null,
  };
}

/** The server's LaunchConfig → the form's inputs. */
export function toFormValues(config: Partial<LaunchConfig>): FormValues {
  const full: LaunchConfig = { ...emptyLaunchConfig(), ...config };
  const values: Partial<FormValues> = {
    pythonBuild: full.pythonBuild === "manual" ? "manual" : "auto",
    noDependencies: Boolean(full.noDependencies),
  };
  for (const key of LIST_FIELDS) {
    values[key] = (full[key] ?? []).join("\n");
  }
  for (const key of OPTIONAL_TEXT_FIELDS) {
    values[key] = full[key] ?? "";
  }
  for (const key of TEXT_FIELDS) {
    values[key] = full[key] ?? "";
  }
  return values as FormValues;
}

/** One value per line, trimmed, empty lines dropped. */
export function splitLines(text: string): string[] {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** The form's inputs → a LaunchConfig for the server. */
export function fromFormValues(values: FormValues): LaunchConfig {
  const config = emptyLaunchConfig();
  for (const key of LIST_FIELDS) {
    config[key] = splitLines(values[key] ?? "");
  }
  for (const key of OPTIONAL_TEXT_FIELDS) {
    const text = (values[key] ?? "").trim();
    config[key] = text.length > 0 ? text : null;
  }
  for (const key of TEXT_FIELDS) {
    config[key] = (values[key] ?? "").trim();
  }
  config.instanceType ||= "c1.4";
  config.pythonBuild = values.pythonBuild === "manual" ? "manual" : "auto";
  config.noDependencies = Boolean(values.noDependencies);
  return config;
}

/** config.yaml keys (dotted, as the server reports them for files) → the form field that edits them. */
const CONFIG_KEY_FIELDS: ReadonlyArray<readonly [string, string]> = [
  ["env.python.pip.extra-index-urls", "extraIndexUrls"],
  ["env.python.pip.no-deps", "noDependencies"],
  ["env.python.requirements-file", "requirementsFile"],
  ["env.python.root-paths", "extraRootPaths"],
  ["env.python.version", "pythonVersion"],
  ["env.python.type", "pythonBuild"],
  ["env.python", "pythonBuild"],
  ["env.docker.image", "dockerImage"],
  ["env.docker.username", "dockerUsername"],
  ["env.docker.password", "dockerPasswordSecret"],
  ["env.docker", "dockerImage"],
  ["env.vars", "envVars"],
  ["cloud-instance-types", "instanceType"],
  ["cloud-instance-type", "instanceType"],
  ["s3-mounts", "s3Mounts"],
  ["datasets", "datasets"],
  ["inputs", "inputs"],
  ["outputs", "outputs"],
  ["name", "jobName"],
  ["desc", "jobDesc"],
  ["cmd", "program"],
  ["args", "args"],
];

const FORM_FIELDS: ReadonlySet<string> = new Set<string>([
  ...LIST_FIELDS,
  ...OPTIONAL_TEXT_FIELDS,
  ...TEXT_FIELDS,
  "pythonBuild",
  "noDependencies",
]);

function configKeyField(key: string): string | undefined {
  for (const [prefix, field] of CONFIG_KEY_FIELDS) {
    if (key === prefix || key.startsWith(`${prefix}.`) || key.startsWith(`${prefix}[`)) {
      return field;
    }
  }
  return undefined;
}

/**
 * The form field a server finding belongs to (`_form` when none does). A finding that points into a file
 * names a config.yaml key (`name` there is the job's name); otherwise it names a form field.
 */
export function fieldForError(error: FieldError): string {
  const fromConfig = configKeyField(error.field);
  if (error.file && fromConfig) {
    return fromConfig;
  }
  const head = error.field.split(/[.[]/)[0] ?? "";
  if (FORM_FIELDS.has(error.field) || FORM_FIELDS.has(head)) {
    return FORM_FIELDS.has(error.field) ? error.field : head;
  }
  return fromConfig ?? GENERAL_ERROR_KEY;
}

/** Server findings grouped by form field, each message prefixed by its severity when it is a warning. */
export function groupErrors(errors: readonly FieldError[]): FormErrors {
  const grouped: FormErrors = {};
  for (const error of errors) {
    const field = fieldForError(error);
    const where = error.file && error.range ? `${error.file}:${error.range.start.line + 1}: ` : "";
    const text = `${error.severity === "warning" ? "Warning: " : ""}${where}${error.message}`;
    (grouped[field] ??= []).push(text);
  }
  return grouped;
}

/** True when any finding is an error (not just a warning). */
export function hasBlockingErrors(errors: readonly FieldError[]): boolean {
  return errors.some((error) => error.severity === "error");
}

/** Actions the form's buttons ask for. */
export type FormAction = "save" | "export" | "invoke";

/** Messages from the webview to the extension. */
export type WebviewToExtension =
  | { type: "ready" }
  | { type: "changed"; values: FormValues }
  | { type: "action"; action: FormAction; values: FormValues }
  | { type: "load" };

/** Messages from the extension to the webview. */
export type ExtensionToWebview =
  | {
      type: "init";
      values: FormValues;
      errors: FormErrors;
      instanceTypes: readonly string[];
      source: string;
      launchEntries: string[];
    }
  | { type: "errors"; errors: FormErrors }
  | { type: "status"; text: string; level: "info" | "error" }
  | { type: "busy"; busy: boolean }
  /** The local backend's datasets and connectors offered beside their fields (empty lists: nothing offered). */
  | { type: "resources"; choices: ResourceChoices }
  /** Shows the first field with an error: its tab selected, scrolled into view, focused. */
  | { type: "revealError" };

/** Narrows an unknown webview message to a known one (webview input is untrusted). */
export function parseWebviewMessage(message: unknown): WebviewToExtension | null {
  if (typeof message !== "object" || message === null) {
    return null;
  }
  const candidate = message as { type?: unknown; action?: unknown; values?: unknown };
  switch (candidate.type) {
    case "ready":
    case "load":
      return { type: candidate.type };
    case "changed":
      return isFormValues(candidate.values) ? { type: "changed", values: candidate.values } : null;
    case "action":
      if (
        (candidate.action === "save" || candidate.action === "export" || candidate.action === "invoke") &&
        isFormValues(candidate.values)
      ) {
        return { type: "action", action: candidate.action, values: candidate.values };
      }
      return null;
    default:
      return null;
  }
}

function isFormValues(values: unknown): values is FormValues {
  if (typeof values !== "object" || values === null) {
    return false;
  }
  const record = values as Record<string, unknown>;
  const textKeys = [...LIST_FIELDS, ...OPTIONAL_TEXT_FIELDS, ...TEXT_FIELDS];
  return (
    textKeys.every((key) => typeof record[key] === "string") &&
    (record.pythonBuild === "auto" || record.pythonBuild === "manual") &&
    typeof record.noDependencies === "boolean"
  );
}
