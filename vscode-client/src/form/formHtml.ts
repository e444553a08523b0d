/** The configuration form's HTML: a strict CSP with a nonce, assets served from the extension only. Pure module. */

import { INSTANCE_TYPES } from "./formModel";

export interface FormHtmlAssets {
  /** `webview.cspSource`. */
  cspSource: string;
  /** A fresh random nonce for this document. */
  nonce: string;
  /** The webview URI of the bundled form script. */
  scriptUri: string;
  /** The webview URI of the codicons stylesheet (vscode-elements draws its icons with it). */
  codiconsUri: string;
  /** The webview URI of the form's stylesheet. */
  styleUri: string;
}

/** A random nonce for a CSP `script-src 'nonce-…'`. */
export function makeNonce(random: () => number = Math.random): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let nonce = "";
  for (let i = 0; i < 32; i++) {
    nonce += alphabet.charAt(Math.floor(random() * alphabet.length));
  }
  return nonce;
}

/** The Content-Security-Policy of the form: nothing from the network, scripts only with the nonce. */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    `script-src 'nonce-${nonce}'`,
  ].join("; ");
}

function escapeAttr(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/"/g, "&quot;").replace(/</g, "&lt;");
}

interface FieldSpec {
  id: string;
  label: string;
  hint?: string;
  multiline?: boolean;
  placeholder?: string;
  /** A picker of known values beside the field, hidden until it has entries: its prompt (also its label). */
  picker?: string;
}

function picker(id: string, prompt: string): string {
  return `<select id="${id}-known" class="known-resources" aria-label="${escapeAttr(prompt)}" hidden><option value="">${prompt}</option></select>`;
}

function field(spec: FieldSpec): string {
  const control = spec.multiline
    ? `<vscode-textarea id="${spec.id}" name="${spec.id}" rows="3" resize="vertical" monospace placeholder="${escapeAttr(spec.placeholder ?? "")}"></vscode-textarea>`
    : `<vscode-textfield id="${spec.id}" name="${spec.id}" placeholder="${escapeAttr(spec.placeholder ?? "")}"></vscode-textfield>`;
  return `
      <vscode-form-group variant="vertical" data-field="${spec.id}">
        <vscode-label for="${spec.id}">${spec.label}</vscode-label>
        ${control}
        ${spec.picker ? picker(spec.id, spec.picker) : ""}
        ${spec.hint ? `<vscode-form-helper>${spec.hint}</vscode-form-helper>` : ""}
        <div class="field-error" id="${spec.id}-error" role="alert"></div>
      </vscode-form-group>`;
}

function basicTab(): string {
  return [
    field({ id: "program", label: "Program", hint: "The Python file to run." }),
    field({ id: "args", label: "Arguments", multiline: true, hint: "One argument per line." }),
    field({ id: "workingDirectory", label: "Working directory", hint: "Paths are relative to it; outputs are downloaded into it." }),
    field({ id: "inputs", label: "Inputs", multiline: true, placeholder: "data/train.csv=TRAIN", hint: "<code>&lt;path&gt;=&lt;var&gt;</code> or <code>&lt;path&gt;</code>, one per line." }),
    field({ id: "outputs", label: "Outputs", multiline: true, placeholder: "model.bin=MODEL", hint: "<code>&lt;path&gt;=&lt;var&gt;</code> or <code>&lt;path&gt;</code>, one per line." }),
  ].join("");
}

function instanceTypeField(): string {
  const options = INSTANCE_TYPES.map((type) => `<vscode-option value="${type}">${type}</vscode-option>`).join("");
  return `
      <vscode-form-group variant="vertical" data-field="instanceType">
        <vscode-label for="instanceType">Instance Type</vscode-label>
        <vscode-single-select id="instanceType" name="instanceType" combobox creatable>${options}</vscode-single-select>
        <vscode-form-helper>Cloud instance type, e.g. c1.4 (CPU) or g1.1 (GPU).</vscode-form-helper>
        <div class="field-error" id="instanceType-error" role="alert"></div>
      </vscode-form-group>`;
}

function advancedTab(): string {
  return [
    field({ id: "projectId", label: "Project Identifier", hint: "Empty: the setting <em>Datasphere: Project</em>." }),
    field({ id: "configFile", label: "Configuration file path", hint: "An existing config.yaml merged under the form." }),
    instanceTypeField(),
    field({ id: "s3Mounts", label: "S3 mounts", multiline: true, hint: "S3 connector IDs, one per line.", picker: "Add a local S3 connector…" }),
    field({ id: "datasets", label: "Datasets", multiline: true, placeholder: "my-dataset=DATA", hint: "<code>&lt;dataset&gt;=&lt;var&gt;</code>, one per line.", picker: "Add a local dataset…" }),
    field({ id: "jobName", label: "Job name" }),
    field({ id: "name", label: "Launch configuration name", hint: "The launch.json entry Save writes." }),
    field({ id: "jobDesc", label: "Job description" }),
  ].join("");
}

function environmentTab(): string {
  return [
    field({ id: "envVars", label: "Variables", multiline: true, placeholder: "NAME:value", hint: "<code>NAME:value</code>, one per line." }),
    field({ id: "dockerImage", label: "Docker Image", hint: "Image URL or resource ID." }),
    `<div class="group-title">User</div>`,
    field({ id: "dockerUsername", label: "Username" }),
    field({ id: "dockerPasswordSecret", label: "Password secret", hint: "Name of the project secret that holds the password." }),
  ].join("");
}

function pythonTab(): string {
  return [
    `
      <vscode-form-group variant="vertical" data-field="pythonBuild">
        <vscode-label>Build method</vscode-label>
        <vscode-radio-group id="pythonBuild" name="pythonBuild">
          <vscode-radio name="pythonBuild" value="auto" label="auto">auto</vscode-radio>
          <vscode-radio name="pythonBuild" value="manual" label="manual">manual</vscode-radio>
        </vscode-radio-group>
        <vscode-form-helper>auto: requirements are detected from your code and interpreter.</vscode-form-helper>
        <div class="field-error" id="pythonBuild-error" role="alert"></div>
      </vscode-form-group>`,
    field({ id: "pythonVersion", label: "Python version", placeholder: "3.11" }),
    field({ id: "requirementsFile", label: "Requirements file", placeholder: "requirements.txt" }),
    field({ id: "extraRootPaths", label: "Extra root paths", multiline: true, hint: "Folders searched for local modules, one per line." }),
    field({ id: "extraIndexUrls", label: "Extra index URLs", multiline: true, hint: "One per line." }),
    `
      <vscode-form-group variant="vertical" data-field="noDependencies">
        <vscode-checkbox id="noDependencies" name="noDependencies" label="No Dependencies">No Dependencies</vscode-checkbox>
        <div class="field-error" id="noDependencies-error" role="alert"></div>
      </vscode-form-group>`,
  ].join("");
}

/** The whole document of the DataSphere Job Configuration webview. */
export function formHtml(assets: FormHtmlAssets): string {
  const csp = contentSecurityPolicy(assets.cspSource, assets.nonce);
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="UTF-8">
  <meta http-equiv="Content-Security-Policy" content="${csp}">
  <meta name="viewport" content="width=device-width, initial-scale=1.0">
  <link rel="stylesheet" href="${assets.codiconsUri}" id="vscode-codicon-stylesheet">
  <link rel="stylesheet" href="${assets.styleUri}">
  <title>DataSphere Job Configuration</title>
</head>
<body>
  <header>
    <h1>DataSphere Job Configuration</h1>
    <div id="source" class="source"></div>
    <div id="form-errors" class="form-errors" role="alert"></div>
  </header>
  <vscode-tabs id="tabs" selected-index="0">
    <vscode-tab-header slot="header">BASIC</vscode-tab-header>
    <vscode-tab-panel>${basicTab()}</vscode-tab-panel>
    <vscode-tab-header slot="header">ADVANCED</vscode-tab-header>
    <vscode-tab-panel>${advancedTab()}</vscode-tab-panel>
    <vscode-tab-header slot="header">ENVIRONMENT</vscode-tab-header>
    <vscode-tab-panel>${environmentTab()}</vscode-tab-panel>
    <vscode-tab-header slot="header">PYTHON</vscode-tab-header>
    <vscode-tab-panel>${pythonTab()}</vscode-tab-panel>
  </vscode-tabs>
  <footer>
    <vscode-button id="save" secondary title="Save to .vscode/launch.json">Save</vscode-button>
    <vscode-button id="export" secondary title="Export as config.yaml">Export</vscode-button>
    <vscode-button id="load" secondary title="Load a launch.json entry or a config.yaml">Load</vscode-button>
    <span class="spacer"></span>
    <span id="status" class="status" role="status"></span>
    <vscode-button id="invoke" title="Run the job">Invoke</vscode-button>
  </footer>
  <script nonce="${assets.nonce}" src="${assets.scriptUri}"></script>
</body>
</html>`;
}
