/** Launch history as data: ordering, merging live updates, and how one job looks in the tree. Pure module. */

import { isFinal, type Job, type JobStatus } from "../protocol";

/** What the tree shows for one job (turned into a `vscode.TreeItem` by the view). */
export interface JobItemModel {
  id: string;
  label: string;
  description: string;
  tooltip: string;
  /** A codicon id, `~spin` suffixed while the job runs. */
  icon: string;
  /** A theme color id for the icon, or null for the default. */
  iconColor: string | null;
  /** Space-separated flags matched by the `view/item/context` menus: `job`, `running`, `link`. */
  contextValue: string;
}

const STATUS_TEXT: Record<JobStatus, string> = {
  JOB_STATUS_UNSPECIFIED: "Unknown",
  CREATING: "Creating",
  PREPARING: "Preparing",
  EXECUTING: "Executing",
  UPLOADING_OUTPUT: "Uploading output",
  CANCELLING: "Cancelling",
  SUCCESS: "Succeeded",
  ERROR: "Failed",
  CANCELLED: "Cancelled",
};

/** Human words for a job status. */
export function statusText(status: JobStatus): string {
  return STATUS_TEXT[status] ?? status;
}

function statusIcon(status: JobStatus): { icon: string; iconColor: string | null } {
  switch (status) {
    case "SUCCESS":
      return { icon: "pass", iconColor: "testing.iconPassed" };
    case "ERROR":
      return { icon: "error", iconColor: "testing.iconFailed" };
    case "CANCELLED":
      return { icon: "circle-slash", iconColor: "disabledForeground" };
    case "JOB_STATUS_UNSPECIFIED":
      return { icon: "question", iconColor: null };
    default:
      return { icon: "loading~spin", iconColor: null };
  }
}

function baseName(path: string): string {
  const parts = path.split(/[\\/]/);
  return parts[parts.length - 1] || path;
}

/** The job's display name: its name, else its entry file's name, else its id. */
export function jobLabel(job: Job): string {
  if (job.name) {
    return job.name;
  }
  return job.entryFile ? baseName(job.entryFile) : job.id;
}

/** "HH:MM" (today) or "YYYY-MM-DD HH:MM" of an ISO time, in the local zone of `now`. */
export function shortTime(iso: string | null, now: Date): string {
  if (!iso) {
    return "";
  }
  const time = new Date(iso);
  if (Number.isNaN(time.getTime())) {
    return "";
  }
  const pad = (n: number): string => String(n).padStart(2, "0");
  const hm = `${pad(time.getHours())}:${pad(time.getMinutes())}`;
  if (time.toDateString() === now.toDateString()) {
    return hm;
  }
  return `${time.getFullYear()}-${pad(time.getMonth() + 1)}-${pad(time.getDate())} ${hm}`;
}

function describe(job: Job, now: Date): string {
  const parts = [statusText(job.status)];
  if (job.exitCode !== null && job.exitCode !== undefined && isFinal(job.status)) {
    parts.push(`exit ${job.exitCode}`);
  }
  const when = shortTime(job.createdAt, now);
  if (when) {
    parts.push(when);
  }
  return parts.join(" · ");
}

function tooltip(job: Job): string {
  const lines = [`${jobLabel(job)} — ${statusText(job.status)}`, `Job ID: ${job.id}`, `Project: ${job.projectId}`];
  if (job.statusDetails) {
    lines.push(job.statusDetails);
  }
  if (job.entryFile) {
    lines.push(`File: ${job.entryFile}`);
  }
  if (job.createdAt) {
    lines.push(`Created: ${job.createdAt}`);
  }
  if (job.finishedAt) {
    lines.push(`Finished: ${job.finishedAt}`);
  }
  if (job.exitCode !== null && job.exitCode !== undefined) {
    lines.push(`Exit code: ${job.exitCode}`);
  }
  lines.push(`Backend: ${job.backend}`);
  return lines.join("\n");
}

/** How one job appears in the Launch History tree. */
export function jobItemModel(job: Job, now: Date = new Date()): JobItemModel {
  const flags = ["job"];
  if (!isFinal(job.status)) {
    flags.push("running");
  }
  if (job.link) {
    flags.push("link");
  }
  return {
    id: job.id,
    label: jobLabel(job),
    description: describe(job, now),
    tooltip: tooltip(job),
    ...statusIcon(job.status),
    contextValue: flags.join(" "),
  };
}

function createdMillis(job: Job): number {
  const millis = job.createdAt ? Date.parse(job.createdAt) : Number.NaN;
  return Number.isNaN(millis) ? Number.POSITIVE_INFINITY : millis;
}

/** Newest first; jobs without a creation time (just created) stay on top. */
export function sortJobs(jobs: readonly Job[]): Job[] {
  return [...jobs].sort((a, b) => createdMillis(b) - createdMillis(a) || b.id.localeCompare(a.id));
}

/** The list after a `dsjobs/jobChanged`: the job replaced in place, or added, newest first. */
export function mergeJob(jobs: readonly Job[], changed: Job): Job[] {
  const others = jobs.filter((job) => job.id !== changed.id);
  return sortJobs([...others, changed]);
}

/** Jobs that still run. */
export function runningJobs(jobs: readonly Job[]): Job[] {
  return jobs.filter((job) => !isFinal(job.status));
}
