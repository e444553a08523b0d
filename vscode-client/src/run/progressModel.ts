/** How `dsjobs/progress` becomes a progress notification with percent. Pure module. */

import type { ProgressParams, ProgressStage } from "../protocol";

/** Stages shown as a notification (execute is long and shown by the status bar and Debug Console instead). */
export const NOTIFIED_STAGES: ReadonlySet<ProgressStage> = new Set<ProgressStage>(["analysis", "packaging", "upload", "download"]);

const STAGE_TITLES: Record<ProgressStage, string> = {
  analysis: "DataSphere Jobs: analysing environment",
  packaging: "DataSphere Jobs: packaging files",
  upload: "DataSphere Jobs: uploading files",
  execute: "DataSphere Jobs: executing job",
  download: "DataSphere Jobs: downloading outputs",
};

export function stageTitle(stage: ProgressStage): string {
  return STAGE_TITLES[stage];
}

/** The key of one progress bar: one per run and stage. */
export function progressKey(params: Pick<ProgressParams, "runId" | "stage">): string {
  return `${params.runId}/${params.stage}`;
}

/** Percent of a report: the server's, else computed from done/total, else null (unknown). */
export function percentOf(params: Pick<ProgressParams, "percent" | "done" | "total">): number | null {
  if (typeof params.percent === "number") {
    return Math.max(0, Math.min(100, params.percent));
  }
  if (params.total && params.total > 0) {
    return Math.max(0, Math.min(100, Math.floor((params.done * 100) / params.total)));
  }
  return null;
}

/** The increment VS Code's progress API wants, from the last percent shown to the new one (never negative). */
export function progressIncrement(shown: number, next: number | null): number {
  return next === null ? 0 : Math.max(0, next - shown);
}

/** The notification's message for a report: the server's text plus the percent. */
export function progressMessage(params: Pick<ProgressParams, "message">, percent: number | null): string {
  const parts = [params.message.trim(), percent === null ? "" : `${percent}%`].filter((part) => part.length > 0);
  return parts.join(" — ");
}
