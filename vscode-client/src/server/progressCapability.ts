/**
 * The client shows run progress from `dsjobs/progress` only (it carries the job id and closes each stage
 * exactly), so it declines LSP work-done progress: the server then sends no `$/progress`, and
 * vscode-languageclient shows no second, status-bar copy of every stage. No VS Code import.
 */

import type { ClientCapabilities, FeatureState, StaticFeature } from "vscode-languageclient";

export class DeclineWorkDoneProgress implements StaticFeature {
  /** Runs after vscode-languageclient's own features (registered later), so its word is final. */
  fillClientCapabilities(capabilities: ClientCapabilities): void {
    capabilities.window = { ...capabilities.window, workDoneProgress: false };
  }

  initialize(): void {
    // Nothing to set up: the feature only edits the capabilities.
  }

  getState(): FeatureState {
    return { kind: "static" };
  }

  clear(): void {
    // Nothing to clear.
  }
}
