// Builds the dsjobs-lsp wheel from this repository into dist/server/, where the .vsix ships it: the extension
// installs it into its private environment on first run. Needs uv (on PATH, or the repo's .venv from
// scripts/lib/venv.sh).
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";

const repo = resolve(import.meta.dirname, "..", "..");
const out = resolve(import.meta.dirname, "..", "dist", "server");
const venvUv = join(repo, ".venv", "bin", "uv");
const uv = existsSync(venvUv) ? venvUv : "uv";

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
execFileSync(uv, ["build", "--wheel", "--quiet", "--out-dir", out, repo], { stdio: "inherit" });
rmSync(join(out, ".gitignore"), { force: true });
const wheels = readdirSync(out).filter((name) => name.endsWith(".whl"));
if (wheels.length !== 1) {
  throw new Error(`expected one wheel in ${out}, found: ${wheels.join(", ") || "none"}`);
}
console.error(`[build-wheel] ${join(out, wheels[0])}`);
