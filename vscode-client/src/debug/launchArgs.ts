/** Debug configuration ↔ the server's LaunchConfig. Pure module. */

import { emptyLaunchConfig } from "../form/formModel";
import type { LaunchConfig } from "../protocol";

const LAUNCH_KEYS = Object.keys(emptyLaunchConfig()) as (keyof LaunchConfig)[];

/** The LaunchConfig keys of a `datasphere` debug configuration (type, request, VS Code's own keys dropped). */
export function launchConfigFromDebug(configuration: Record<string, unknown>): Partial<LaunchConfig> {
  const config: Record<string, unknown> = {};
  for (const key of LAUNCH_KEYS) {
    const value = configuration[key];
    if (value !== undefined) {
      config[key] = value;
    }
  }
  return config;
}

/** A `datasphere` launch configuration that runs the given config. */
export function debugConfigFromLaunch(config: Partial<LaunchConfig>, fallbackName: string): Record<string, unknown> {
  const entries = Object.entries(config).filter(([, value]) => value !== null && value !== undefined);
  return {
    ...Object.fromEntries(entries),
    type: "datasphere",
    request: "launch",
    name: config.name || fallbackName,
  };
}

/** Exit code to report for a finished job: its own, else 0 for success and 1 otherwise. */
export function jobExitCode(status: string, exitCode: number | null): number {
  if (exitCode !== null && exitCode !== undefined) {
    return exitCode;
  }
  return status === "SUCCESS" ? 0 : 1;
}
