/** Reading the JSON-RPC error of a failed server command (protocol §6). Pure module. */

import type { CommandErrorData, FieldError } from "../protocol";

export interface CommandFailure {
  message: string;
  kind: CommandErrorData["kind"] | "unknown";
  errors: FieldError[];
}

/** A short sentence and the field errors of whatever a failed `executeCommand` threw. */
export function commandFailure(error: unknown): CommandFailure {
  if (typeof error === "object" && error !== null) {
    const candidate = error as { message?: unknown; data?: unknown };
    const message = typeof candidate.message === "string" ? candidate.message : JSON.stringify(error);
    const data = (typeof candidate.data === "object" && candidate.data !== null ? candidate.data : {}) as Partial<CommandErrorData>;
    return {
      message,
      kind: data.kind ?? "unknown",
      errors: Array.isArray(data.errors) ? data.errors : [],
    };
  }
  return { message: String(error), kind: "unknown", errors: [] };
}
