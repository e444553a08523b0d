import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { contentSecurityPolicy, formHtml, makeNonce } from "../../src/form/formHtml";
import { INSTANCE_TYPES, LIST_FIELDS, OPTIONAL_TEXT_FIELDS, TEXT_FIELDS } from "../../src/form/formModel";

const assets = {
  cspSource: "https://file+.vscode-resource.vscode-cdn.net",
  nonce: "abcDEF123",
  scriptUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview.js",
  codiconsUri: "https://file+.vscode-resource.vscode-cdn.net/ext/dist/codicons/codicon.css",
  styleUri: "https://file+.vscode-resource.vscode-cdn.net/ext/media/form.css",
};

describe("form document", () => {
  const html = formHtml(assets);

  it("runs only the nonce-tagged script from the extension", () => {
    const csp = contentSecurityPolicy(assets.cspSource, assets.nonce);
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'nonce-abcDEF123'/);
    assert.doesNotMatch(csp, /unsafe-eval|\*/);
    assert.ok(html.includes(`content="${csp}"`));
    const scripts = html.match(/<script[^>]*>/g) ?? [];
    assert.equal(scripts.length, 1);
    assert.ok(scripts[0]?.includes(`nonce="${assets.nonce}"`));
    assert.ok(scripts[0]?.includes(assets.scriptUri));
  });

  it("has the four tabs and the four buttons", () => {
    for (const tab of ["BASIC", "ADVANCED", "ENVIRONMENT", "PYTHON"]) {
      assert.ok(html.includes(`>${tab}</vscode-tab-header>`), tab);
    }
    for (const button of ["Save", "Export", "Load", "Invoke"]) {
      assert.ok(html.includes(`>${button}</vscode-button>`), button);
    }
  });

  it("has an input and an error slot for every field of the model", () => {
    for (const id of [...LIST_FIELDS, ...OPTIONAL_TEXT_FIELDS, ...TEXT_FIELDS, "pythonBuild", "noDependencies"]) {
      assert.ok(html.includes(`id="${id}"`), `input ${id}`);
      assert.ok(html.includes(`id="${id}-error"`), `error slot ${id}`);
    }
  });

  it("suggests every instance type", () => {
    for (const type of INSTANCE_TYPES) {
      assert.ok(html.includes(`<vscode-option value="${type}">`), type);
    }
  });

  it("makes a different 32-character nonce each time", () => {
    const a = makeNonce();
    const b = makeNonce();
    assert.match(a, /^[A-Za-z0-9]{32}$/);
    assert.notEqual(a, b);
  });
});
