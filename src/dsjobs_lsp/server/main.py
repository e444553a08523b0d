"""Entry point: `python -m dsjobs_lsp` / `dsjobs serve` run the language server over stdio."""

from __future__ import annotations

import argparse
import logging
import sys

from dsjobs_lsp import __version__


def main(argv: list[str] | None = None) -> None:
    """Serve LSP over stdin/stdout until the client exits."""
    parser = argparse.ArgumentParser(
        prog="dsjobs serve", description="DataSphere Jobs language server (stdio)"
    )
    parser.add_argument(
        "--stdio", action="store_true", help="accepted for vscode-languageclient; stdio is the default"
    )
    parser.add_argument("--log-level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR"])
    parser.add_argument("--version", action="version", version=__version__)
    args, _unknown = parser.parse_known_args(sys.argv[1:] if argv is None else argv)

    from dsjobs_lsp.server.app import build_server
    from dsjobs_lsp.server.logs import configure_logging

    server = build_server()
    configure_logging(server, getattr(logging, args.log_level))
    server.start_io()


if __name__ == "__main__":
    main()
