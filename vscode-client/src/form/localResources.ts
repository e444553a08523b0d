/**
 * The local backend's known datasets and S3 connectors as choices beside the form's *Datasets* and *S3 mounts*
 * fields: the line each choice adds and the text that names it. Pure module (shared by the extension and the
 * webview script).
 */

import type { LocalResources } from "../protocol";

/** One entry of a field's picker: `line` is what picking it adds to the field. */
export interface ResourceChoice {
  line: string;
  label: string;
}

/** The pickers' entries; both empty when there is nothing to offer (the cloud, no resources). */
export interface ResourceChoices {
  datasets: ResourceChoice[];
  s3Mounts: ResourceChoice[];
}

/** A byte count as people read it: `512 B`, `1.5 KB`, `20 MB`. */
export function formatSize(bytes: number): string {
  const units = ["B", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  const shown = unit === 0 || value >= 10 ? Math.round(value).toString() : value.toFixed(1).replace(/\.0$/, "");
  return `${shown} ${units[unit]}`;
}

/** An environment variable name for a dataset's name: upper case, `_` for anything else, never a leading digit. */
export function datasetVariable(name: string): string {
  const variable = name.toUpperCase().replace(/[^A-Z0-9_]+/g, "_").replace(/^_+|_+$/g, "");
  if (!variable) {
    return "DATASET";
  }
  return /^[0-9]/.test(variable) ? `DS_${variable}` : variable;
}

/** The choices the local backend's resources give: datasets add `ID=VAR`, connectors add `ID`. */
export function resourceChoices(resources: Pick<LocalResources, "datasets" | "s3Mounts">): ResourceChoices {
  return {
    datasets: resources.datasets.map((dataset) => ({
      line: `${dataset.id}=${datasetVariable(dataset.name)}`,
      label: `${dataset.name} (${formatSize(dataset.size)}) — ${dataset.id}`,
    })),
    s3Mounts: resources.s3Mounts.map((mount) => ({ line: mount.id, label: `${mount.path} — ${mount.id}` })),
  };
}

/** The field's text with `line` added on a line of its own, unless the field already holds it. */
export function addLine(text: string, line: string): string {
  const lines = text.split("\n").map((entry) => entry.trim());
  if (lines.includes(line)) {
    return text;
  }
  const kept = text.replace(/\s+$/, "");
  return kept ? `${kept}\n${line}` : line;
}
