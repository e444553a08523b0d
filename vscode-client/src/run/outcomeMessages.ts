/**
 * The notification that closes a run, worded as the history names jobs (name, else file). The server's own
 * "DataSphere job <id> …" messages are replaced by these (they name the job by ID only, and a cancel the user
 * asked for is not an error). Pure module.
 */

import type { RunEndedParams } from "../protocol";

export type OutcomeLevel = "info" | "error";

/** A server message about a run's end (`window/showMessage`), which this module words instead. */
export const SERVER_OUTCOME_MESSAGE = /^DataSphere job \S+ (completed successfully|ended with )/;

/** The closing notification of a run; undefined when there is nothing to announce (detached, or an error the
 * Debug Console already shows). */
export function outcomeMessage(params: RunEndedParams, label: string): { text: string; level: OutcomeLevel } | undefined {
  if (params.error || !params.status) {
    return undefined;
  }
  if (params.succeeded || params.status === "SUCCESS") {
    return { text: `DataSphere job ${label} completed successfully`, level: "info" };
  }
  if (params.status === "CANCELLED") {
    return { text: `DataSphere job ${label} was cancelled`, level: "info" };
  }
  if (params.status === "ERROR") {
    const code = params.exitCode ? `, exit code ${params.exitCode}` : "";
    return { text: `DataSphere job ${label} ended with ${params.status}${code}`, level: "error" };
  }
  return undefined;
}

/** True when a job's config.yaml text asks for graceful shutdown (a top-level `graceful-shutdown:` key). */
export function wantsGracefulShutdown(configText: string): boolean {
  return /^graceful-shutdown\s*:/m.test(configText);
}
