/**
 * The contract with the dsjobs language server (docs/protocol.md): command ids, notification methods and the
 * JSON payloads they carry. Pure types and constants, no VS Code import, so unit tests can load it.
 */

/** Server command ids (`workspace/executeCommand`). Client UI commands use the `datasphere.` prefix instead. */
export const ServerCommand = {
  setToken: "dsjobs.setToken",
  removeToken: "dsjobs.removeToken",
  resolveConfig: "dsjobs.resolveConfig",
  validateConfig: "dsjobs.validateConfig",
  runFile: "dsjobs.runFile",
  cancel: "dsjobs.cancel",
  attach: "dsjobs.attach",
  history: "dsjobs.history",
  jobLink: "dsjobs.jobLink",
  saveLaunchConfig: "dsjobs.saveLaunchConfig",
  exportConfig: "dsjobs.exportConfig",
  loadConfig: "dsjobs.loadConfig",
  localResources: "dsjobs.localResources",
} as const;

/** Custom notifications the server sends. */
export const ServerNotification = {
  console: "dsjobs/console",
  log: "dsjobs/log",
  jobChanged: "dsjobs/jobChanged",
  progress: "dsjobs/progress",
  runEnded: "dsjobs/runEnded",
} as const;

export type PythonBuild = "auto" | "manual";

/** The configuration form's model and the attributes of a `datasphere` launch.json entry. */
export interface LaunchConfig {
  name: string;
  program: string;
  args: string[];
  workingDirectory: string;
  inputs: string[];
  outputs: string[];
  projectId: string | null;
  configFile: string | null;
  instanceType: string;
  s3Mounts: string[];
  datasets: string[];
  envVars: string[];
  dockerImage: string | null;
  dockerUsername: string | null;
  dockerPasswordSecret: string | null;
  pythonBuild: PythonBuild;
  pythonVersion: string | null;
  requirementsFile: string | null;
  extraRootPaths: string[];
  extraIndexUrls: string[];
  noDependencies: boolean;
  jobName: string | null;
  jobDesc: string | null;
}

export interface Position {
  line: number;
  character: number;
}

/** One validation finding; `field` is a form field name or a dotted config.yaml key. */
export interface FieldError {
  field: string;
  message: string;
  severity: "error" | "warning";
  range?: { start: Position; end: Position } | null;
  file?: string | null;
}

export type JobStatus =
  | "JOB_STATUS_UNSPECIFIED"
  | "CREATING"
  | "PREPARING"
  | "EXECUTING"
  | "UPLOADING_OUTPUT"
  | "CANCELLING"
  | "SUCCESS"
  | "ERROR"
  | "CANCELLED";

export const FINAL_STATUSES: ReadonlySet<JobStatus> = new Set<JobStatus>(["SUCCESS", "ERROR", "CANCELLED"]);

/** True once a job can no longer change. */
export function isFinal(status: JobStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** One launch (a launch-history row). */
export interface Job {
  id: string;
  backend: "local" | "cloud";
  projectId: string;
  name: string | null;
  desc: string | null;
  status: JobStatus;
  statusDetails: string;
  createdAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  exitCode: number | null;
  link: string | null;
  workingDir: string | null;
  entryFile: string | null;
  configPath: string | null;
  logOffset: number;
  outputsDownloaded: boolean;
}

export interface ResolvedConfig {
  config: LaunchConfig;
  source: string;
  errors: FieldError[];
  launchEntries: string[];
}

export interface RunStarted {
  jobId: string;
  runId: string;
}

export interface ConsoleParams {
  jobId: string | null;
  runId: string;
  line: string;
  level: "info" | "warning" | "error";
}

export interface LogParams {
  jobId: string;
  stream: "stdout" | "stderr" | "system";
  lines: string[];
}

export interface JobChangedParams {
  job: Job;
}

export type ProgressStage = "analysis" | "packaging" | "upload" | "execute" | "download";

export interface ProgressParams {
  jobId: string | null;
  runId: string;
  stage: ProgressStage;
  message: string;
  done: number;
  total: number | null;
  percent: number | null;
  finished: boolean;
}

/** The last message of every `runFile` / `attach`: the job is over and its outputs are in, or following failed. */
export interface RunEndedParams {
  runId: string;
  jobId: string | null;
  status: JobStatus | null;
  exitCode: number | null;
  succeeded: boolean;
  error: string | null;
}

/** `data` of a failed command's JSON-RPC error. */
export interface CommandErrorData {
  kind: "invalidParams" | "config" | "auth" | "backend" | "notFound" | "io" | "internal";
  errors?: FieldError[];
}

/** `dsjobs.localResources`: the local backend's datasets and S3 connectors (empty lists for the cloud). */
export interface LocalResources {
  backend: string;
  projectId: string | null;
  datasets: { id: string; name: string; size: number }[];
  s3Mounts: { id: string; path: string }[];
}
