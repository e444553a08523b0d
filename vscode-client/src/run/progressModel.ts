/** How `dsjobs/progress` becomes progress notifications with percent. No VS Code import: unit-testable. */

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

/** One notification with a progress bar, as the board drives it. */
export interface ProgressBar {
  report(value: { message?: string; increment?: number }): void;
  close(): void;
}

/** Opens a bar titled `title` (in VS Code: a `withProgress` notification). */
export type OpenBar = (title: string) => ProgressBar;

/** A stage that ends within this long is never shown (no notification flashing by). */
export const SHOW_AFTER_MS = 500;
/** A bar that hears nothing for this long is closed (the stage ended without saying so). */
export const IDLE_CLOSE_MS = 60_000;
/** Runs and stages whose end is remembered, so a late report cannot reopen them. */
const REMEMBERED_ENDS = 500;

interface Stage {
  runId: string;
  jobId: string | null;
  stage: ProgressStage;
  bar: ProgressBar | undefined;
  shown: number;
  last: ProgressParams;
  showTimer: ReturnType<typeof setTimeout> | undefined;
  idleTimer: ReturnType<typeof setTimeout> | undefined;
}

/**
 * The progress notifications of runs, from `dsjobs/progress`: at most one bar per run and stage, shown only
 * when the stage lasts, closed when the stage finishes, a later stage of the run starts, the job ends or the
 * run ends. A stage or run that ended stays ended: late reports are ignored.
 */
export class ProgressBoard {
  private readonly stages = new Map<string, Stage>();
  private readonly ended = new Set<string>();

  constructor(private readonly openBar: OpenBar) {}

  /** Number of bars on screen (for tests and diagnostics). */
  get visibleCount(): number {
    return [...this.stages.values()].filter((stage) => stage.bar !== undefined).length;
  }

  update(params: ProgressParams): void {
    const key = progressKey(params);
    if (this.ended.has(key) || this.ended.has(params.runId)) {
      return;
    }
    this.closeWhere((stage, stageKey) => stage.runId === params.runId && stageKey !== key);
    if (params.finished) {
      this.remember(key);
      this.closeWhere((_stage, stageKey) => stageKey === key);
      return;
    }
    if (!NOTIFIED_STAGES.has(params.stage)) {
      return;
    }
    const stage = this.stages.get(key) ?? this.track(key, params);
    stage.jobId ??= params.jobId;
    stage.last = params;
    if (stage.bar) {
      this.show(stage);
    }
    clearTimeout(stage.idleTimer);
    stage.idleTimer = setTimeout(() => this.closeWhere((_s, stageKey) => stageKey === key), IDLE_CLOSE_MS);
  }

  /** Closes the bars of a job that reached a final status (its stages count as ended). */
  jobEnded(jobId: string): void {
    this.closeWhere((stage) => stage.jobId === jobId);
  }

  /** Closes every bar of a run that is over (`dsjobs/runEnded`); its late reports are ignored. */
  runEnded(runId: string): void {
    this.remember(runId);
    this.closeWhere((stage) => stage.runId === runId);
  }

  dispose(): void {
    this.closeWhere(() => true);
  }

  private track(key: string, params: ProgressParams): Stage {
    const stage: Stage = {
      runId: params.runId,
      jobId: params.jobId,
      stage: params.stage,
      bar: undefined,
      shown: 0,
      last: params,
      showTimer: undefined,
      idleTimer: undefined,
    };
    stage.showTimer = setTimeout(() => {
      stage.showTimer = undefined;
      stage.bar = this.openBar(stageTitle(stage.stage));
      this.show(stage);
    }, SHOW_AFTER_MS);
    this.stages.set(key, stage);
    return stage;
  }

  private show(stage: Stage): void {
    const percent = percentOf(stage.last);
    stage.bar?.report({ message: progressMessage(stage.last, percent), increment: progressIncrement(stage.shown, percent) });
    if (percent !== null) {
      stage.shown = Math.max(stage.shown, percent);
    }
  }

  private remember(key: string): void {
    this.ended.add(key);
    if (this.ended.size > REMEMBERED_ENDS) {
      const oldest = this.ended.values().next().value;
      if (oldest !== undefined) {
        this.ended.delete(oldest);
      }
    }
  }

  private closeWhere(match: (stage: Stage, key: string) => boolean): void {
    for (const [key, stage] of [...this.stages.entries()]) {
      if (match(stage, key)) {
        this.remember(key);
        clearTimeout(stage.showTimer);
        clearTimeout(stage.idleTimer);
        stage.bar?.close();
        this.stages.delete(key);
      }
    }
  }
}
