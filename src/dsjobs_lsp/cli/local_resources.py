"""`dsjobs local dataset|s3 ...`: the local backend's stand-ins for DataSphere datasets and S3 connectors.

They live in the local backend's data dir (the same one the daemon uses: `$DSJOBS_LOCAL_DATA_DIR`, the user
config's `local-data-dir`, or the default), per project. These commands read and write that registry
directly (SQLite, shared safely with a running daemon), so they work whether or not the daemon runs.
`create` prints only the new ID on stdout, for `ID=$(dsjobs local dataset create ...)`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dsjobs_lsp.backends.local.resources import Dataset, S3Connector
    from dsjobs_lsp.cli.output import OutputFormat

COMMAND = "local_resources"


def add_local_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """`local dataset create|list|delete` and `local s3 create|list|delete`."""
    local = sub.add_parser("local", help="Datasets and S3 connectors of the local backend (local folders)")
    kinds = local.add_subparsers(dest="local_kind", required=True, metavar="KIND")
    dataset = kinds.add_parser("dataset", help="Local datasets (a copy of a folder, read by jobs by ID)")
    actions = dataset.add_subparsers(dest="local_action", required=True, metavar="COMMAND")
    create = actions.add_parser("create", help="Copy a folder into a new dataset; prints its ID")
    create.add_argument("name", metavar="NAME", help="Dataset name")
    create.add_argument("--path", required=True, help="The folder whose content becomes the dataset")
    _add_list_delete(actions, "dataset")

    s3 = kinds.add_parser("s3", help="Local S3 connectors (a folder a job sees as its bucket mount)")
    actions = s3.add_subparsers(dest="local_action", required=True, metavar="COMMAND")
    create = actions.add_parser("create", help="Map a folder as an S3 connector; prints its ID")
    create.add_argument("--path", required=True, help="The folder jobs see (read-write) as the bucket")
    _add_list_delete(actions, "S3 connector")


def _add_list_delete(actions: argparse._SubParsersAction[argparse.ArgumentParser], what: str) -> None:
    listing = actions.add_parser("list", help=f"List the project's {what}s")
    listing.add_argument("--format", choices=("table", "json"), default="table", help="Output format")
    delete = actions.add_parser("delete", help=f"Delete a {what}")
    delete.add_argument("id", metavar="ID", help=f"{what} ID")
    for parser in actions.choices.values():
        parser.add_argument(
            "-p", "--project-id", help="Project ID (default: $DSJOBS_PROJECT, else the local project)"
        )
        parser.set_defaults(command=COMMAND)


def run_local_resources(args: argparse.Namespace) -> int:
    """Run one `dsjobs local ...` command; errors are raised (`ResourceError`) for the caller to print."""
    from dsjobs_lsp.backends.local.layout import LOCAL_PROJECT_ID
    from dsjobs_lsp.backends.local.resources import registry_of
    from dsjobs_lsp.core.settings import load_settings

    settings = load_settings(backend=args.backend, oauth_token=args.token, yc_profile=args.profile)
    registry = registry_of(settings.local_data_dir)
    project = args.project_id or settings.project_id or LOCAL_PROJECT_ID
    if args.local_kind == "dataset":
        if args.local_action == "create":
            print(registry.create_dataset(project, args.name, Path(args.path)).id)
        elif args.local_action == "list":
            _print_datasets(registry.datasets(project), args.format)
        else:
            deleted = registry.delete_dataset(project, args.id)
            print(f"dataset {deleted.id} ({deleted.name}) deleted", file=sys.stderr)
    elif args.local_action == "create":
        print(registry.create_connector(project, Path(args.path)).id)
    elif args.local_action == "list":
        _print_connectors(registry.connectors(project), args.format)
    else:
        deleted_connector = registry.delete_connector(project, args.id)
        print(f"S3 connector {deleted_connector.id} ({deleted_connector.path}) deleted", file=sys.stderr)
    return 0


def _print_datasets(datasets: list[Dataset], fmt: OutputFormat) -> None:
    from dsjobs_lsp.cli.output import Field, write_entities
    from dsjobs_lsp.core.packaging.limits import humanize_bytes_size

    fields = (
        Field(lambda d: d.id, "id", "ID"),
        Field(lambda d: d.name, "name", "Name"),
        Field(lambda d: d.size if fmt == "json" else humanize_bytes_size(d.size), "size", "Size"),
        Field(lambda d: d.job_id, "created_by_job", "Created by job"),
    )
    write_entities(datasets, fields, sys.stdout, fmt)


def _print_connectors(connectors: list[S3Connector], fmt: OutputFormat) -> None:
    from dsjobs_lsp.cli.output import Field, write_entities

    fields = (Field(lambda c: c.id, "id", "ID"), Field(lambda c: str(c.path), "path", "Path"))
    write_entities(connectors, fields, sys.stdout, fmt)
