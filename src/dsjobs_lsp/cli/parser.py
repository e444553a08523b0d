"""`dsjobs` command line: the reference CLI's job commands (same flags), `run`, `local-server`, `serve`."""

from __future__ import annotations

import argparse
import os

from dsjobs_lsp.cli.local_resources import add_local_parser

LOG_LEVELS = ("ERROR", "WARNING", "WARN", "INFO", "DEBUG")
OAUTH_ENV_VARS = ("YC_TOKEN", "YC_OAUTH_TOKEN")


def build_parser() -> argparse.ArgumentParser:
    """The whole command tree; each leaf sets `command` to the name of its handler."""
    parser = argparse.ArgumentParser(
        prog="dsjobs",
        description="DataSphere Jobs: run Python files as jobs on Yandex Cloud DataSphere or locally.",
        epilog="Ctrl-C while following a job detaches (the job keeps running); "
        "`dsjobs project job attach --id ID` "
        "follows it again and `dsjobs project job cancel --id ID` stops it.",
    )
    parser.add_argument("-t", "--token", default=_env_token(), help="YC OAuth token (default: $YC_TOKEN)")
    parser.add_argument("-l", "--log-level", default="INFO", choices=LOG_LEVELS, help="Logging level")
    parser.add_argument("--log-config", help=argparse.SUPPRESS)
    parser.add_argument("--log-dir", help="Accepted for compatibility; logs stay in the terminal")
    parser.add_argument("--profile", help="`yc` utility profile")
    parser.add_argument(
        "--sa-key",
        metavar="FILE",
        help="Service account authorized key (JSON from `yc iam key create`) for the cloud "
        "(default: $YC_SA_KEY_FILE)",
    )
    parser.add_argument("--user-agent", help=argparse.SUPPRESS)
    parser.add_argument(
        "--backend",
        choices=("local", "cloud"),
        help="Where jobs run (default: $DSJOBS_BACKEND, config, local)",
    )
    sub = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")

    sub.add_parser("version", help="Show version").set_defaults(command="version")
    _add_generate_requirements(sub)
    _add_run(sub)
    _add_local_server(sub)
    add_local_parser(sub)
    sub.add_parser("serve", help="Run the language server over stdio").set_defaults(command="serve")

    project = sub.add_parser("project", help="Project and job commands (as in the `datasphere` CLI)")
    project_sub = project.add_subparsers(dest="project_command", required=True, metavar="COMMAND")
    project_get = project_sub.add_parser("get", help="Get project")
    _add_id(project_get, "Project ID")
    _add_output(project_get)
    _add_format(project_get)
    project_get.set_defaults(command="project_get")

    job = project_sub.add_parser("job", help="Job commands")
    _add_job_commands(job.add_subparsers(dest="job_command", required=True, metavar="COMMAND"))
    return parser


def _env_token() -> str | None:
    return next((os.environ[name] for name in OAUTH_ENV_VARS if os.environ.get(name)), None)


def _add_id(parser: argparse.ArgumentParser, help_text: str = "Job ID") -> None:
    parser.add_argument("--id", required=True, help=help_text)


def _add_project(parser: argparse.ArgumentParser, *, required: bool = False) -> None:
    parser.add_argument(
        "-p",
        "--project-id",
        required=required,
        help="DataSphere project ID (default: $DSJOBS_PROJECT; the local backend has its own default)",
    )


def _add_output(parser: argparse.ArgumentParser, help_text: str = "Output file (stdout by default)") -> None:
    parser.add_argument("-o", "--output", help=help_text)


def _add_format(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--format", choices=("table", "json"), default="table", help="Output format")


def _add_async(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--async", action="store_true", dest="async_", help="Async mode")


def _add_job_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    async_help = "File with execution data, for async mode (none by default)"
    execute = sub.add_parser("execute", help="Execute job")
    _add_project(execute)
    execute.add_argument("-c", "--config", required=True, help="Config file")
    _add_async(execute)
    _add_output(execute, async_help)
    execute.set_defaults(command="execute")

    fork = sub.add_parser("fork", help="Execute job using existing one as a template")
    _add_id(fork, "Source job ID")
    fork.add_argument("--arg", action="append", default=[], metavar="NAME=VALUE", help="New argument value")
    fork.add_argument("--var", action="append", default=[], metavar="NAME=PATH", help="New path for variable")
    fork.add_argument("--name", help="New job name")
    fork.add_argument("--desc", help="New job description")
    fork.add_argument(
        "--env-var", action="append", default=[], metavar="NAME=VALUE", help="Environment variable"
    )
    fork.add_argument("--docker-image-id", help="ID of Docker image resource")
    fork.add_argument("--docker-image-url", help="URL of Docker image")
    fork.add_argument("--docker-image-username", help="Username for Docker image")
    fork.add_argument("--docker-image-password-secret-id", help="Secret name of password for Docker image")
    fork.add_argument("--working-storage-type", help="Working storage disk type")
    fork.add_argument("--working-storage-size", help="Working storage disk size")
    fork.add_argument("--cloud-instance-type", action="append", default=[], help="Instance type(s), in order")
    _add_async(fork)
    _add_output(fork, async_help)
    fork.set_defaults(command="fork")

    attach = sub.add_parser("attach", help="Attach to the job execution (never re-executes it)")
    _add_id(attach)
    attach.add_argument("--output-dir", help="Where outputs go (default: the job's working directory)")
    attach.set_defaults(command="attach")

    listing = sub.add_parser("list", help="List jobs")
    _add_project(listing)
    _add_output(listing)
    _add_format(listing)
    listing.set_defaults(command="list")

    get = sub.add_parser("get", help="Get job")
    _add_id(get)
    _add_output(get)
    _add_format(get)
    get.set_defaults(command="get")

    delete = sub.add_parser("delete", help="Delete job")
    _add_id(delete)
    delete.set_defaults(command="delete")

    cancel = sub.add_parser("cancel", help="Cancel job")
    _add_id(cancel)
    cancel.add_argument("--graceful", "-g", action="store_true", help="Shutdown gracefully")
    cancel.set_defaults(command="cancel")

    ttl = sub.add_parser("set-data-ttl", help="Set job data TTL")
    _add_id(ttl)
    ttl.add_argument("--days", required=True, help='Data TTL days or "infinity"')
    ttl.set_defaults(command="set_data_ttl")

    download = sub.add_parser("download-files", help="Download job files")
    _add_id(download)
    download.add_argument("--with-logs", action="store_true", help="Download log files")
    download.add_argument("--with-diagnostics", action="store_true", help="Download diagnostics files")
    download.add_argument("--output-dir", help="Download all files to the specified directory")
    download.set_defaults(command="download_files")


def _add_generate_requirements(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "generate-requirements", help="Generate requirements for specified root module(s)"
    )
    parser.add_argument("-o", "--output", default="requirements.txt", help="Output file (requirements.txt)")
    parser.add_argument("files", metavar="FILE", nargs="+", help="Root module(s)")
    parser.set_defaults(command="generate_requirements")


def _add_run(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser(
        "run",
        help="Run a Python file as a job",
        description="Run FILE as a job: working directory = its folder, Python environment detected. "
        "Put program arguments after `--`. Ctrl-C detaches; the job keeps running.",
    )
    parser.add_argument("file", metavar="FILE", help="The Python file to run")
    parser.add_argument("args", metavar="ARGS", nargs="*", help="Program arguments (put them after --)")
    parser.add_argument(
        "--input", action="append", default=[], metavar="PATH[=VAR]", help="Input file/folder"
    )
    parser.add_argument(
        "--output", action="append", default=[], metavar="PATH[=VAR]", help="Output file/folder"
    )
    parser.add_argument("--instance-type", help="Instance type (default c1.4)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="NAME=VALUE", help="Environment variable"
    )
    parser.add_argument("-c", "--config", help="Start from this config.yaml")
    _add_project(parser)
    _add_async(parser)
    parser.set_defaults(command="run")


def _add_local_server(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("local-server", help="Run the embedded local backend in the foreground")
    parser.add_argument("--host", default="127.0.0.1", help="Address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=0, help="gRPC port (default: any free port)")
    parser.add_argument(
        "--data-dir", help="Data folder (default: $DSJOBS_LOCAL_DATA_DIR or the user data dir)"
    )
    parser.set_defaults(command="local_server")


def split_program_args(argv: list[str]) -> tuple[list[str], list[str]]:
    """For `run`, everything after the first `--` belongs to the program: (our argv, the program's argv)."""
    if "--" not in argv:
        return argv, []
    cut = argv.index("--")
    if "run" not in argv[:cut]:
        return argv, []
    return argv[:cut], argv[cut + 1 :]
