"""``assistant serve`` prints its URL line on every start, even while output is swallowed.

llama.cpp, loading with ``verbose=False`` in a background thread, points file
descriptors 1 and 2 at /dev/null while it loads; a URL line printed then was lost on
warm restarts. Here a stand-in embedding model does the same for a few seconds from the
moment the assistant opens (so across the launch of the page), and the server is
started twice on the same index: the line is read both times, with the progress lines.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from browser import free_port
from conftest import CORPUS, PROJECT

DRIVER = """
import os, sys, threading, time
sys.path.insert(0, {tests!r})
from conftest import FakeEmbedder, ScriptedGenerator
from assistant import cli, core

def swallow_output(seconds):
    # what llama.cpp does while it loads: fds 1 and 2 point at /dev/null
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved = os.dup(1), os.dup(2)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    time.sleep(seconds)
    os.dup2(saved[0], 1)
    os.dup2(saved[1], 2)

def embedder(settings):
    threading.Thread(target=swallow_output, args=(8.0,), daemon=True).start()
    time.sleep(0.2)
    return FakeEmbedder()

core._default_embedder = embedder
core._default_generator = lambda settings: ScriptedGenerator(["The reports do not say."])
sys.exit(cli.main(sys.argv[1:]))
"""
URL_LINE = re.compile(r"Reports assistant: open (http://127\.0\.0\.1:\d+/?) in a browser")


def _start(tmp_path: Path, port: int) -> tuple[str, str]:
    """Start the server, wait for its URL line, stop it; return stdout and stderr."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "ASSISTANT_CORPUS_DIR": str(tmp_path / "c"),
           "ASSISTANT_INDEX_DIR": str(tmp_path / "index"),
           "ASSISTANT_CACHE_DIR": str(tmp_path / "cache"), "NO_PROXY": "127.0.0.1,localhost"}
    code = DRIVER.format(tests=str(PROJECT / "tests"))
    out_path, err_path = tmp_path / "out.txt", tmp_path / "err.txt"
    with out_path.open("w") as out, err_path.open("w") as err:
        proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port)],
                                stdout=out, stderr=err, env=env, cwd=tmp_path)
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and proc.poll() is None:
                if URL_LINE.search(out_path.read_text()):
                    break
                time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    return out_path.read_text(), err_path.read_text()


def test_url_line_is_printed_on_a_first_and_a_warm_start(tmp_path: Path) -> None:
    shutil.copytree(CORPUS, tmp_path / "c")
    port = free_port()
    for start in ("first", "warm"):
        out, err = _start(tmp_path, port)
        found = URL_LINE.search(out)
        assert found, f"{start} start printed no URL line; stdout={out!r} stderr={err[-2000:]!r}"
        assert found.group(1).rstrip("/") == f"http://127.0.0.1:{port}"
        # the steps of the start say what they do, swallowed output or not
        assert "loading the reports of 'c' and the index" in err
        assert re.search(r"index (built|up to date): 2 reports, \d+ passages", err)
        assert "loading the language model in the background" in err
        assert ("index up to date" in err) == (start == "warm")
