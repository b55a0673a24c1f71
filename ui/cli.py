"""The ``assistant serve`` subcommand, registered through the ``assistant.commands`` entry point.

Gradio is imported only when the command runs, so other ``assistant``
commands do not pay for it.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable
from typing import Any, TextIO

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


def _console(fd: int) -> TextIO:
    """A line-buffered stream on a duplicate of file descriptor ``fd``.

    llama.cpp, loading with ``verbose=False`` in the background, points fds 1 and 2 at
    /dev/null for as long as it loads; a duplicate made before still reaches the terminal,
    so the URL line and the progress lines are never swallowed.
    """
    return os.fdopen(os.dup(fd), "w", buffering=1, encoding="utf-8", errors="replace")


def _show_progress(console: TextIO) -> logging.Handler:
    """Print what the long steps of a start log (export, model assembly, index, model load)."""
    handler = logging.StreamHandler(console)
    handler.setFormatter(logging.Formatter("  %(message)s"))
    handler.setLevel(logging.INFO)
    logger = logging.getLogger("assistant")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    return handler


def serve(args: argparse.Namespace) -> None:
    """Open the assistant (building the index if needed) and serve the UI until Ctrl+C.

    Each step prints what it does; the URL line is printed as soon as the page is up,
    before the model loads in the background.
    """
    from assistant import Assistant, Settings

    out, err = _console(sys.stdout.fileno()), _console(sys.stderr.fileno())
    _show_progress(err)
    settings = Settings.from_args(args)
    err.write(f"loading the reports of {settings.corpus_dir.name!r} and the index "
              "(the first start also prepares the embedding model)...\n")
    assistant = Assistant.open(settings=settings)
    report = assistant.build_report
    err.write(f"index {report.status}: {report.documents} reports, {report.chunks} passages\n")
    err.write("starting the web page...\n")
    from ui.app import launch

    demo = launch(assistant, host=args.host, port=args.port, block=False, out=out,
                  mcp=args.mcp)
    err.write("loading the language model in the background; the Chat tab shows its "
              "state\n")
    assistant.warm_in_background()  # the page is up already; the model loads meanwhile
    try:
        demo.block_thread()
    finally:
        demo.close()
