"""`dsjobs serve` driven by a language client nobody here wrote: Neovim's built-in one, headless.

A Lua script opens a config.yaml (no filetype: `languageId` is empty, as under `-u init.lua`), waits for its
diagnostics, hovers a key, runs a Python file with `dsjobs.runFile` to SUCCESS while collecting its log
(`dsjobs/log`), then asks `dsjobs.history` with `arguments = {{}}`, which Lua sends as `[[]]`. What it saw
goes to a JSON file the test reads. Neovim comes from the Debian package (`tests/support/install-neovim.sh`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from tests.support.local_backend import isolated_env, stop_local_daemon

INSTALL_SCRIPT = Path(__file__).resolve().parents[1] / "support" / "install-neovim.sh"
NVIM_TIMEOUT_S = 240

INIT_LUA = r"""
local DSJOBS, ROOT, PROGRAM, RESULT = _A_DSJOBS, _A_ROOT, _A_PROGRAM, _A_RESULT
local out = { logs = {}, ended = {} }

local function note(name)
  return function() end
end

local function run()
  local client_id = vim.lsp.start_client({
    name = "dsjobs",
    cmd = { DSJOBS, "serve" },
    root_dir = ROOT,
    handlers = {
      ["dsjobs/log"] = function(_, result)
        for _, line in ipairs(result.lines) do
          table.insert(out.logs, { result.jobId, result.stream, line })
        end
      end,
      ["dsjobs/runEnded"] = function(_, result) table.insert(out.ended, result) end,
      ["dsjobs/console"] = note("console"),
      ["dsjobs/jobChanged"] = note("jobChanged"),
      ["dsjobs/progress"] = note("progress"),
    },
  })
  local client = vim.lsp.get_client_by_id(client_id)
  vim.cmd("edit " .. ROOT .. "/config.yaml")
  local buf = vim.api.nvim_get_current_buf()
  out.filetype = vim.bo[buf].filetype
  vim.lsp.buf_attach_client(buf, client_id)
  vim.wait(60000, function() return #vim.diagnostic.get(buf) > 0 end, 50)
  out.diagnostics = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    table.insert(out.diagnostics, { lnum = d.lnum, message = d.message, severity = d.severity })
  end

  local uri = vim.uri_from_bufnr(buf)
  local hover = client.request_sync("textDocument/hover",
    { textDocument = { uri = uri }, position = { line = 0, character = 1 } }, 30000, buf)
  out.hover = hover and hover.result and hover.result.contents or vim.NIL

  local run = client.request_sync("workspace/executeCommand",
    { command = "dsjobs.runFile", arguments = { { file = PROGRAM } } }, 120000, buf)
  out.run = run and (run.result or run.err) or vim.NIL
  vim.wait(180000, function() return #out.ended > 0 end, 50)

  local history = client.request_sync("workspace/executeCommand",
    { command = "dsjobs.history", arguments = { {} } }, 60000, buf)
  out.history = history and (history.result or history.err) or vim.NIL
end

local ok, err = pcall(run)
out.error = ok and vim.NIL or tostring(err)
local file = io.open(RESULT, "w")
file:write(vim.json.encode(out))
file:close()
vim.cmd("qa!")
"""

CONFIG = textwrap.dedent("""\
    cmd: python main.py --data ${DATA}
    inputs:
      - missing.csv: DATA
    env:
      python: auto
""")

PROGRAM = textwrap.dedent("""\
    for i in range(5):
        print(f"hello from neovim {i}")
""")


@pytest.fixture(scope="module")
def nvim() -> str:
    """The `nvim` binary, installed from the Debian package when missing (skips when it cannot be)."""
    if shutil.which("nvim") is None:
        subprocess.run(["bash", str(INSTALL_SCRIPT)], check=False, timeout=600)
    found = shutil.which("nvim")
    if found is None:
        pytest.skip(f"Neovim is not installed and {INSTALL_SCRIPT} could not install it (apt-get as root)")
    return found


def drive(nvim: str, root: Path, program: Path) -> dict[str, Any]:
    """Run the Lua script in headless Neovim against `dsjobs serve` and return what it recorded."""
    result = root / "nvim-result.json"
    values = {
        "DSJOBS": _dsjobs(),
        "ROOT": str(root / "project"),
        "PROGRAM": str(program),
        "RESULT": str(result),
    }
    script = "".join(f"_A_{name} = {json.dumps(value)}\n" for name, value in values.items()) + INIT_LUA
    init = root / "init.lua"
    init.write_text(script)
    env = {
        **isolated_env(root),
        "XDG_CONFIG_HOME": str(root / "xdg" / "config"),
        "XDG_CACHE_HOME": str(root / "xdg" / "cache"),
        "XDG_STATE_HOME": str(root / "xdg" / "state"),
        "XDG_DATA_HOME": str(root / "xdg" / "data"),
    }
    done = subprocess.run(
        [nvim, "--headless", "-n", "-i", "NONE", "-u", str(init)],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=NVIM_TIMEOUT_S,
        check=False,
    )
    assert result.exists(), f"Neovim wrote no result (exit {done.returncode}): {done.stdout}{done.stderr}"
    recorded: dict[str, Any] = json.loads(result.read_text())
    return recorded


def _dsjobs() -> str:
    script = Path(sys.executable).with_name("dsjobs")
    return str(script) if script.exists() else shutil.which("dsjobs") or "dsjobs"


def test_neovim_gets_diagnostics_hover_a_run_with_its_log_and_the_history(nvim: str, tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "config.yaml").write_text(CONFIG)
    program = project / "main.py"
    program.write_text(PROGRAM)
    try:
        seen = drive(nvim, tmp_path, program)
    finally:
        stop_local_daemon(tmp_path / "data")

    assert seen["error"] is None, seen["error"]
    assert seen["filetype"] == "", "the test is about a client sending an empty languageId"
    assert any(d["lnum"] == 2 and "missing.csv" in d["message"] for d in seen["diagnostics"]), seen
    assert "cmd" in json.dumps(seen["hover"]).lower(), seen["hover"]
    job_id = seen["run"]["jobId"]
    (ended,) = seen["ended"]
    assert (ended["jobId"], ended["status"], ended["succeeded"]) == (job_id, "SUCCESS", True)
    stdout = [line for job, stream, line in seen["logs"] if job == job_id and stream == "stdout"]
    assert stdout == [f"hello from neovim {i}" for i in range(5)]
    assert [job["id"] for job in seen["history"]["jobs"]] == [job_id]
