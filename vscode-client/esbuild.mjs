// Bundles the extension (Node, CommonJS) and the form's webview script (browser); `--tests` bundles the tests.
import { build } from "esbuild";
import { cpSync, mkdirSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";

const production = process.argv.includes("--production");
const withTests = process.argv.includes("--tests");

async function buildExtension() {
  await build({
    entryPoints: ["src/extension.ts"],
    outfile: "dist/extension.js",
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    external: ["vscode"],
    sourcemap: !production,
    minify: production,
    logLevel: "warning",
  });
  await build({
    entryPoints: ["webview/form.ts"],
    outfile: "dist/webview.js",
    bundle: true,
    platform: "browser",
    format: "iife",
    target: "es2022",
    sourcemap: !production,
    minify: true,
    logLevel: "warning",
  });
  mkdirSync("dist/codicons", { recursive: true });
  for (const file of ["codicon.css", "codicon.ttf"]) {
    cpSync(join("node_modules/@vscode/codicons/dist", file), join("dist/codicons", file));
  }
}

function testEntries(folder) {
  return readdirSync(folder)
    .filter((name) => name.endsWith(".test.ts"))
    .map((name) => join(folder, name));
}

async function buildTests() {
  rmSync("dist-test", { recursive: true, force: true });
  for (const kind of ["unit", "e2e"]) {
    await build({
      entryPoints: testEntries(join("test", kind)),
      outdir: join("dist-test", kind),
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      // A unit test that pulls in `vscode` fails to load: unit tests cover the pure modules only.
      external: ["vscode", "playwright-core"],
      sourcemap: "inline",
      logLevel: "warning",
    });
  }
}

await buildExtension();
if (withTests) {
  await buildTests();
}
