/**
 * The configuration form's script (runs inside the webview). It only shows values and errors the extension
 * sends and posts the user's edits and button presses back; all logic lives in the extension and the server.
 */

import "@vscode-elements/elements/dist/main.js";
import {
  LIST_FIELDS,
  OPTIONAL_TEXT_FIELDS,
  TEXT_FIELDS,
  GENERAL_ERROR_KEY,
  type ExtensionToWebview,
  type FormAction,
  type FormErrors,
  type FormValues,
  type WebviewToExtension,
} from "../src/form/formModel";
import { addLine, type ResourceChoice, type ResourceChoices } from "../src/form/localResources";

interface VsCodeApi {
  postMessage(message: WebviewToExtension): void;
  setState(state: unknown): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

const vscode = acquireVsCodeApi();
const TEXT_KEYS = [...LIST_FIELDS, ...OPTIONAL_TEXT_FIELDS, ...TEXT_FIELDS];
const CHANGE_DEBOUNCE_MS = 300;

type ValueElement = HTMLElement & { value: string; invalid?: boolean };
type CheckboxElement = HTMLElement & { checked: boolean };

function element<T extends HTMLElement>(id: string): T {
  const found = document.getElementById(id);
  if (!found) {
    throw new Error(`form element #${id} is missing`);
  }
  return found as T;
}

function readPythonBuild(): "auto" | "manual" {
  const radios = Array.from(document.querySelectorAll<HTMLElement & { checked: boolean; value: string }>("vscode-radio"));
  return radios.find((radio) => radio.checked)?.value === "manual" ? "manual" : "auto";
}

function readValues(): FormValues {
  const values: Partial<FormValues> = {};
  for (const key of TEXT_KEYS) {
    values[key] = element<ValueElement>(key).value ?? "";
  }
  values.pythonBuild = readPythonBuild();
  values.noDependencies = element<CheckboxElement>("noDependencies").checked;
  return values as FormValues;
}

function writeValues(values: FormValues): void {
  for (const key of TEXT_KEYS) {
    element<ValueElement>(key).value = values[key];
  }
  for (const radio of Array.from(document.querySelectorAll<HTMLElement & { checked: boolean; value: string }>("vscode-radio"))) {
    radio.checked = radio.value === values.pythonBuild;
  }
  element<CheckboxElement>("noDependencies").checked = values.noDependencies;
}

function showErrors(errors: FormErrors): void {
  for (const box of Array.from(document.querySelectorAll<HTMLElement>(".field-error"))) {
    const fieldId = box.id.replace(/-error$/, "");
    const messages = errors[fieldId] ?? [];
    box.textContent = messages.join("\n");
    const control = document.getElementById(fieldId) as ValueElement | null;
    if (control && "invalid" in control) {
      control.invalid = messages.length > 0;
    }
  }
  element("form-errors").textContent = (errors[GENERAL_ERROR_KEY] ?? []).join("\n");
  markTabsWithErrors(errors);
}

function markTabsWithErrors(errors: FormErrors): void {
  const panels = Array.from(document.querySelectorAll("vscode-tab-panel"));
  const headers = Array.from(document.querySelectorAll<HTMLElement>("vscode-tab-header"));
  panels.forEach((panel, index) => {
    const hasError = Array.from(panel.querySelectorAll<HTMLElement>(".field-error")).some(
      (box) => (errors[box.id.replace(/-error$/, "")] ?? []).length > 0,
    );
    headers[index]?.classList.toggle("has-error", hasError);
  });
}

/** Selects the tab of the first field with an error, scrolls the field into view and focuses it. */
function revealFirstError(): void {
  const box = Array.from(document.querySelectorAll<HTMLElement>(".field-error")).find((candidate) => candidate.textContent?.trim());
  if (!box) {
    element("form-errors").scrollIntoView({ block: "center" });
    return;
  }
  const panel = box.closest("vscode-tab-panel");
  const panels = Array.from(document.querySelectorAll("vscode-tab-panel"));
  const header = Array.from(document.querySelectorAll<HTMLElement>("vscode-tab-header"))[panel ? panels.indexOf(panel) : -1];
  header?.click();
  const control = document.getElementById(box.id.replace(/-error$/, ""));
  setTimeout(() => {
    (control ?? box).scrollIntoView({ block: "center" });
    control?.focus();
  }, 50);
}

function showStatus(text: string, level: "info" | "error"): void {
  const status = element("status");
  status.textContent = text;
  status.classList.toggle("error", level === "error");
}

function setBusy(busy: boolean): void {
  for (const id of ["save", "export", "load", "invoke"]) {
    element<HTMLElement & { disabled: boolean }>(id).disabled = busy;
  }
}

const PICKER_FIELDS = ["datasets", "s3Mounts"] as const;

/** Fills a field's picker with the choices (the prompt stays first); hides it when there are none. */
function showChoices(fieldId: string, choices: ResourceChoice[]): void {
  const select = element<HTMLSelectElement>(`${fieldId}-known`);
  while (select.options.length > 1) {
    select.remove(1);
  }
  for (const choice of choices) {
    select.add(new Option(choice.label, choice.line));
  }
  select.hidden = choices.length === 0;
}

function showResources(choices: ResourceChoices): void {
  for (const fieldId of PICKER_FIELDS) {
    showChoices(fieldId, choices[fieldId]);
  }
}

/** Picking an entry adds its line to the field and returns the picker to its prompt. */
function wirePickers(): void {
  for (const fieldId of PICKER_FIELDS) {
    const select = element<HTMLSelectElement>(`${fieldId}-known`);
    select.addEventListener("change", () => {
      if (select.value) {
        const field = element<ValueElement>(fieldId);
        field.value = addLine(field.value ?? "", select.value);
        select.selectedIndex = 0;
      }
    });
  }
}

function onMessage(message: ExtensionToWebview): void {
  switch (message.type) {
    case "init":
      writeValues(message.values);
      showErrors(message.errors);
      element("source").textContent = `Configuration: ${message.source}`;
      break;
    case "errors":
      showErrors(message.errors);
      break;
    case "status":
      showStatus(message.text, message.level);
      break;
    case "busy":
      setBusy(message.busy);
      break;
    case "revealError":
      revealFirstError();
      break;
    case "resources":
      showResources(message.choices);
      break;
  }
}

let changeTimer: ReturnType<typeof setTimeout> | undefined;

function scheduleChanged(): void {
  clearTimeout(changeTimer);
  changeTimer = setTimeout(() => vscode.postMessage({ type: "changed", values: readValues() }), CHANGE_DEBOUNCE_MS);
}

function wireButtons(): void {
  const actions: FormAction[] = ["save", "export", "invoke"];
  for (const action of actions) {
    element(action).addEventListener("click", () => {
      clearTimeout(changeTimer);
      vscode.postMessage({ type: "action", action, values: readValues() });
    });
  }
  element("load").addEventListener("click", () => vscode.postMessage({ type: "load" }));
}

function main(): void {
  window.addEventListener("message", (event: MessageEvent<ExtensionToWebview>) => onMessage(event.data));
  document.body.addEventListener("input", scheduleChanged);
  document.body.addEventListener("change", scheduleChanged);
  wireButtons();
  wirePickers();
  vscode.postMessage({ type: "ready" });
}

main();
