"""`workspace/executeCommand`: each command's single argument is validated with its protocol model,
the work is done by `forms` (configuration form) or `jobs` (running and following jobs), and failures
become `CommandError`s.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import ValidationError

from dsjobs_lsp.server import protocol as p
from dsjobs_lsp.server.app import DsjobsServer  # at runtime: pygls evaluates the handlers' annotations
from dsjobs_lsp.server.errors import CommandError, to_command_error

Handler = Callable[["DsjobsServer", Any], Awaitable[p.Payload]]

log = logging.getLogger("dsjobs_lsp.server.commands")


async def set_token(ls: DsjobsServer, args: p.SetTokenArgs) -> p.OkResult:
    """Keep the OAuth token in memory."""
    ls.session.set_token(args.token)
    return p.OkResult()


async def remove_token(ls: DsjobsServer, _args: p.NoArgs) -> p.OkResult:
    """Forget the OAuth token."""
    ls.session.remove_token()
    return p.OkResult()


async def resolve_config(ls: DsjobsServer, args: p.ResolveConfigArgs) -> p.ResolvedConfig:
    """The form model for a Python file."""
    from dsjobs_lsp.server import forms

    return await forms.resolve_config(await ls.session.settings(), args.file, args.source)


async def validate_config(ls: DsjobsServer, args: p.ValidateConfigArgs) -> p.ValidateResult:
    """Field errors of a form."""
    from dsjobs_lsp.server import forms

    return p.ValidateResult(errors=await forms.validate_config(args.config))


async def run_file(ls: DsjobsServer, args: p.RunFileArgs) -> p.RunResult:
    """Start a job; answers with its id once it exists."""
    return await ls.jobs.run_file(args)


async def cancel(ls: DsjobsServer, args: p.CancelArgs) -> p.JobIdResult:
    """Ask the backend to cancel a job."""
    await ls.jobs.cancel(args.job_id, args.graceful)
    return p.JobIdResult(job_id=args.job_id)


async def attach(ls: DsjobsServer, args: p.JobIdArgs) -> p.RunResult:
    """Follow a job's logs to its end, in the background."""
    return await ls.jobs.attach(args.job_id)


async def history(ls: DsjobsServer, args: p.HistoryArgs) -> p.HistoryResult:
    """Launch history, newest first."""
    records = await ls.jobs.history(args.project_id)
    return p.HistoryResult(jobs=[p.JobPayload.of(record) for record in records])


async def job_link(ls: DsjobsServer, args: p.JobIdArgs) -> p.JobLinkResult:
    """The browser link of a job."""
    return p.JobLinkResult(job_id=args.job_id, link=await ls.jobs.job_link(args.job_id))


async def save_launch_config(ls: DsjobsServer, args: p.SaveLaunchConfigArgs) -> p.SaveLaunchResult:
    """Add or update the `datasphere` entry in `.vscode/launch.json`."""
    from dsjobs_lsp.server import forms

    return await forms.save_launch_config(args.config, args.workspace_folder)


async def export_config(ls: DsjobsServer, args: p.ExportConfigArgs) -> p.PathResult:
    """Write the form as a config.yaml."""
    from dsjobs_lsp.server import forms

    return await forms.export_config(args.config, args.path)


async def load_config(ls: DsjobsServer, args: p.LoadConfigArgs) -> p.ResolvedConfig:
    """Read a config.yaml or a launch.json entry into the form model."""
    from dsjobs_lsp.server import forms

    return await forms.load_config(await ls.session.settings(), args.path, args.name)


async def local_resources(ls: DsjobsServer, args: p.LocalResourcesArgs) -> p.LocalResourcesResult:
    """The local backend's datasets and S3 connectors (for the form's fields)."""
    from dsjobs_lsp.server.local_resources import local_resources as listed

    return await listed(await ls.session.settings(), args.project_id)


HANDLERS: dict[str, Handler] = {
    "dsjobs.setToken": set_token,
    "dsjobs.removeToken": remove_token,
    "dsjobs.resolveConfig": resolve_config,
    "dsjobs.validateConfig": validate_config,
    "dsjobs.runFile": run_file,
    "dsjobs.cancel": cancel,
    "dsjobs.attach": attach,
    "dsjobs.history": history,
    "dsjobs.jobLink": job_link,
    "dsjobs.saveLaunchConfig": save_launch_config,
    "dsjobs.exportConfig": export_config,
    "dsjobs.loadConfig": load_config,
    "dsjobs.localResources": local_resources,
}


def parse_arguments(command: str, arguments: tuple[Any, ...]) -> p.Payload:
    """The command's single argument as its protocol model; `CommandError(invalidParams)` naming the key."""
    model = p.COMMAND_ARGS[command]
    if len(arguments) > 1:
        raise CommandError("invalidParams", f"{command} takes one object argument, got {len(arguments)}")
    raw = arguments[0] if arguments else {}
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise CommandError(
            "invalidParams", f"{command}: the argument must be an object, got {type(raw).__name__}"
        )
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        problems = "; ".join(
            f"`{'.'.join(str(part) for part in error['loc']) or 'argument'}`: {error['msg']}"
            for error in exc.errors()
        )
        raise CommandError("invalidParams", f"{command}: {problems}") from None


def _command(command: str, handler: Handler) -> Callable[..., Awaitable[dict[str, Any]]]:
    async def execute(ls: DsjobsServer, *arguments: Any) -> dict[str, Any]:
        try:
            args = parse_arguments(command, arguments)
            result = await handler(ls, args)
        except Exception as exc:
            error = to_command_error(exc)
            log.info("%s failed: %s", command, error.message)
            raise error from None
        return result.wire()

    execute.__name__ = f"command_{command.replace('.', '_')}"
    return execute


def register_commands(server: DsjobsServer) -> None:
    """Register every command of the protocol."""
    for command, handler in HANDLERS.items():
        server.command(command)(_command(command, handler))
