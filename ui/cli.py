"""The ``assistant serve`` subcommand, registered through the ``assistant.commands`` entry point.

Gradio is imported only when the command runs, so other ``assistant``
commands do not pay for it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 7860


def _port(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 < value < 65536:
        raise argparse.ArgumentTypeError(f"port must be between 1 and 65535, got {value}")
    return value


def register(subparsers: Any,
             add_common_flags: Callable[[argparse.ArgumentParser], None]) -> None:
    """Add the ``serve`` subcommand to the ``assistant`` command line."""
    parser = subparsers.add_parser("serve", help="start the web UI (local only by default)")
    parser.add_argument("--host", default=DEFAULT_HOST,
                        help=f"interface to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=_port, default=DEFAULT_PORT,
                        help=f"port to listen on (default {DEFAULT_PORT})")
    parser.add_argument("--mcp", action="store_true",
                        help="also serve the MCP tools ask, search, lookup and list_reports "
                             "at /gradio_api/mcp/ (for agents such as Claude Desktop)")
    add_common_flags(parser)
    parser.set_defaults(handler=serve)


def serve(args: argparse.Namespace) -> None:
    """Open the assistant (building the index if needed) and serve the UI until Ctrl+C."""
    from assistant import Assistant, Settings

    settings = Settings.from_args(args)
    sys.stderr.write(f"loading the reports of {settings.corpus_dir.name!r} and the index...\n")
    sys.stderr.flush()
    assistant = Assistant.open(settings=settings)
    report = assistant.build_report
    sys.stderr.write(f"index {report.status}: {report.documents} reports, "
                     f"{report.chunks} passages\n")
    from ui.app import launch

    assistant.warm_in_background()  # the page is up at once; the model loads meanwhile
    launch(assistant, host=args.host, port=args.port, mcp=args.mcp)
