"""The Gradio app: chat with streamed, cited answers; passages; reports; uploads; API.

:func:`create_app` only builds the interface (no server, no model loading);
:func:`launch` serves it on the loopback interface by default.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import ui  # noqa: F401  (switches analytics off before Gradio is imported)

import gradio as gr  # isort: skip
from gradio.events import api as gradio_api  # isort: skip

from assistant import Assistant, Settings
from assistant.errors import ConfigError
from ui import render
from ui.handlers import PASSAGE_HINT, Handlers

UPLOAD_TYPES = [".txt", ".md", ".html", ".pdf", ".docx"]
# id, state, title, outlet, date, pages, passages: every column stays on a 1280 px page
REPORT_COLUMNS: list[str | int] = ["16%", "15%", "30%", "13%", "10%", "7%", "9%"]
QUEUE_SIZE = 64

CSS = """
#passage .html-container { padding-top: 0; }
#passage .passage-view { padding: 0 6px 4px; }
#passage .passage-head { position: sticky; top: 0; z-index: 1; padding: 26px 0 6px;
  background: var(--block-background-fill); border-bottom: 1px solid var(--border-color-primary); }
#passage .passage-title { margin: 0 0 4px; font-size: 1.02em; line-height: 1.3; }
#passage .passage-meta, #passage .passage-id { color: var(--body-text-color-subdued);
  font-size: 0.88em; margin-bottom: 6px; word-break: break-word; }
#passage .passage-path { font-size: 0.88em; font-weight: 600; margin-bottom: 6px;
  word-break: break-word; }
#passage .passage-text { white-space: pre-wrap; line-height: 1.55; margin-top: 8px;
  overflow-wrap: anywhere; }
#passage mark { background: #ffe066; color: #111; padding: 1px 2px; border-radius: 3px; }
#passage .passage-empty { color: var(--body-text-color-subdued); padding: 30px 6px 12px; }
#chat a.cite { text-decoration: none; font-weight: 600; font-size: 0.85em;
  vertical-align: super; padding: 0 1px; cursor: pointer; }
.other-reports { color: var(--body-text-color-subdued); font-size: 0.9em; }
.status { color: var(--body-text-color-subdued); font-style: italic; }
.draft { color: var(--body-text-color-subdued); }
.notice-error { color: var(--error-text-color, #c00); }
.notice-info, .notice-stopped { color: var(--body-text-color-subdued); font-size: 0.9em; }
#status { min-height: 1.4em; padding: 0 4px; }
#status details.left-out { margin-top: 2px; font-size: 0.9em; }
#status details.left-out summary { cursor: pointer; color: var(--body-text-color-subdued); }
#model-state { min-height: 1.2em; padding: 0 4px; font-size: 0.88em;
  color: var(--body-text-color-subdued); }
#answer-tools .answer-tools { display: flex; gap: 8px; align-items: center; }
#answer-tools button, #passage button.copy-id { border: 1px solid var(--border-color-primary);
  border-radius: 6px; padding: 2px 10px; font-size: 0.88em; cursor: pointer;
  background: var(--button-secondary-background-fill); }
#answer-tools .copy-done { color: var(--body-text-color-subdued); font-size: 0.85em; }
#cite-preview { position: fixed; z-index: 1000; max-width: 380px; padding: 8px 10px;
  border-radius: 6px; background: var(--background-fill-primary, #fff);
  color: var(--body-text-color, #111); border: 1px solid var(--border-color-primary, #ccc);
  box-shadow: 0 4px 14px rgba(0,0,0,.18); font-size: 0.88em; line-height: 1.4;
  pointer-events: none; }
#cite-preview .cite-preview-source { margin-top: 4px; color: var(--body-text-color-subdued);
  font-size: 0.92em; }
#reports table { table-layout: fixed; width: 100%; }
#ask-row { align-items: center; }
"""

# Runs once in the browser when the passage panel mounts. Citation links in the
# chat (<a class="cite" href="#cite-N" title="<citation id>">) are caught in the
# capture phase, so neither the chat nor the browser handles them, and sent to
# Python as a ``select`` event of the panel.
CITE_JS = """
const citeId = (link) => link.getAttribute('title') || link.dataset.cid || '';
const onCiteClick = (event) => {
  const link = event.target instanceof Element ? event.target.closest('a.cite') : null;
  if (!link) return;
  event.preventDefault();
  event.stopPropagation();
  const n = parseInt((link.getAttribute('href') || '').replace('#cite-', ''), 10);
  trigger('select', {index: Number.isFinite(n) ? n : null, value: citeId(link)});
};
// Hovering a citation shows its quoted sentence and report (fetched once per id).
const previews = new Map();
const tip = () => {
  let box = document.getElementById('cite-preview');
  if (!box) {
    box = document.createElement('div');
    box.id = 'cite-preview';
    box.setAttribute('role', 'tooltip');
    box.hidden = true;
    document.body.appendChild(box);
  }
  return box;
};
const showPreview = (link, data) => {
  const box = tip();
  box.replaceChildren();
  const quote = document.createElement('div');
  quote.className = 'cite-preview-quote';
  quote.textContent = data.error ? data.error : '\u201c' + data.quote + '\u201d';
  box.appendChild(quote);
  if (!data.error) {
    const source = document.createElement('div');
    source.className = 'cite-preview-source';
    source.textContent = data.title + (data.source ? ' \u2014 ' + data.source : '');
    box.appendChild(source);
  }
  const r = link.getBoundingClientRect();
  box.hidden = false;
  const left = Math.max(8, Math.min(r.left, window.innerWidth - box.offsetWidth - 8));
  const below = r.bottom + 6 + box.offsetHeight < window.innerHeight;
  box.style.left = left + 'px';
  box.style.top = (below ? r.bottom + 6 : r.top - box.offsetHeight - 6) + 'px';
};
const onCiteOver = async (event) => {
  const link = event.target instanceof Element ? event.target.closest('a.cite') : null;
  if (!link) return;
  const id = citeId(link);
  if (link.hasAttribute('title')) {  // the preview replaces the browser's own tooltip
    link.dataset.cid = id;
    link.removeAttribute('title');
  }
  window.__reportsHovered = link;
  if (!previews.has(id)) previews.set(id, server.cite_preview(id));
  const data = await previews.get(id);
  if (window.__reportsHovered === link) showPreview(link, data);
};
const onCiteOut = (event) => {
  const link = event.target instanceof Element ? event.target.closest('a.cite') : null;
  if (!link) return;
  window.__reportsHovered = null;
  tip().hidden = true;
};
for (const [name, fn] of [['click', onCiteClick], ['mouseover', onCiteOver],
                          ['mouseout', onCiteOut]]) {
  const key = '__reportsCite_' + name;
  if (window[key]) document.removeEventListener(name, window[key], true);
  window[key] = fn;
  document.addEventListener(name, fn, true);
}
element.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.copy-id') : null;
  if (!button) return;
  copyText(button.getAttribute('data-id') || '').then(() => { button.textContent = 'Copied'; });
});
watch('value', () => {
  const mark = element.querySelector('mark');
  if (mark) mark.scrollIntoView({block: 'center'});
});
"""

# Copies text: the Clipboard API (the page is served on loopback, a secure context), else
# the older copy command on a selected text area. Defined once for the page.
COPY_HELPER = """
if (!window.copyText) {
  window.copyText = async (text) => {
    try {
      await navigator.clipboard.writeText(text);
    } catch (err) {
      const area = document.createElement('textarea');
      area.value = text;
      document.body.appendChild(area);
      area.select();
      document.execCommand('copy');
      area.remove();
    }
  };
}
const copyText = window.copyText;
"""

# The copy buttons under the chat: plain text with numbered references, or Markdown.
COPY_JS = COPY_HELPER + """
element.addEventListener('click', (event) => {
  const button = event.target instanceof Element ? event.target.closest('button.copy-btn') : null;
  if (!button) return;
  const kind = button.getAttribute('data-kind');
  const source = element.querySelector('textarea.copy-src[data-kind="' + kind + '"]');
  if (!source) return;
  copyText(source.value).then(() => {
    const done = element.querySelector('.copy-done');
    if (done) done.textContent = kind === 'markdown' ? 'Markdown copied' : 'Answer copied';
  });
});
"""

INTRO = ("### Reports assistant\n"
         "Ask about the news reports in the corpus. Answers cite their passages: "
         "click a citation to read it in its article.")


@dataclass
class ChatView:
    """Components of the chat tab."""

    model: gr.HTML
    timer: gr.Timer
    chat: gr.Chatbot
    status: gr.HTML
    tools: gr.HTML
    question: gr.Textbox
    ask: gr.Button
    stop: gr.Button
    sources: gr.Dataset
    passage: gr.HTML
    lookup: gr.Textbox
    reports: gr.Dropdown
    outlets: gr.Dropdown
    since: gr.Textbox
    until: gr.Textbox


@dataclass
class ReportsView:
    """Components of the reports tab."""

    tab: gr.Tab
    index_status: gr.Markdown
    table: gr.Dataframe
    upload: gr.File
    overwrite: gr.Checkbox
    add: gr.Button
    message: gr.HTML
    remove_choice: gr.Dropdown
    remove: gr.Button
    remove_message: gr.HTML


def _chat_tab(preview: Callable[[str], dict[str, str]]) -> ChatView:
    with gr.Tab("Chat"), gr.Row(equal_height=False):
        with gr.Column(scale=3, min_width=380):
            model = gr.HTML("", elem_id="model-state", js_on_load=None)
            timer = gr.Timer(1.0)
            # No copy button of the chat's own: it copies the message's HTML. The answer
            # tools below copy plain text or Markdown with the references.
            chat = gr.Chatbot(
                elem_id="chat", label="Conversation", height=440, latex_delimiters=[],
                feedback_options=None, buttons=[],
                placeholder="Ask a question about the reports below.")
            status = gr.HTML("", elem_id="status", js_on_load=None)
            tools = gr.HTML("", elem_id="answer-tools", js_on_load=COPY_JS)
            with gr.Row(equal_height=False, elem_id="ask-row"):
                question = gr.Textbox(
                    elem_id="q", show_label=False, scale=6, max_lines=4,
                    placeholder="e.g. Which tax applies to the H200 chips?")
                ask = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                stop = gr.Button("Stop", variant="stop", scale=1, min_width=70, elem_id="stop")
            sources = gr.Dataset(
                elem_id="sources", label="Sources of the latest answer",
                components=["textbox", "textbox", "textbox"],
                headers=["", "report", "passage"], samples=[], type="index", layout="table",
                samples_per_page=10)
            with gr.Accordion("Ask about some reports only", open=False, elem_id="scope"):
                with gr.Row():
                    reports = gr.Dropdown(
                        choices=[], value=[], multiselect=True, elem_id="scope-reports",
                        label="Reports (none chosen: every report)")
                    outlets = gr.Dropdown(
                        choices=[], value=[], multiselect=True, elem_id="scope-outlets",
                        label="Outlets (none chosen: every outlet)")
                with gr.Row():
                    since = gr.Textbox(elem_id="scope-since", label="Dated from",
                                       placeholder="YYYY, YYYY-MM or YYYY-MM-DD")
                    until = gr.Textbox(elem_id="scope-until", label="Dated until",
                                       placeholder="YYYY, YYYY-MM or YYYY-MM-DD")
        with gr.Column(scale=2, min_width=320):
            passage = gr.HTML(
                render.placeholder_html(PASSAGE_HINT), elem_id="passage", label="Passage",
                show_label=True, container=True, max_height=640,
                js_on_load=COPY_HELPER + CITE_JS, server_functions=[preview])
            lookup = gr.Textbox(
                elem_id="lookup", label="Look up a citation id", submit_btn="Show",
                placeholder="report-name:120-480:1a2b3c4d")
    return ChatView(model, timer, chat, status, tools, question, ask, stop, sources, passage,
                    lookup, reports, outlets, since, until)


def _reports_tab() -> ReportsView:
    with gr.Tab("Reports") as tab:
        index_status = gr.Markdown(elem_id="index-status")
        # Fixed column widths and wrapped cells: every column stays on the page at 1280 px.
        table = gr.Dataframe(
            headers=render.REPORT_HEADERS, elem_id="reports", interactive=False, wrap=True,
            label="Reports in the corpus", column_widths=REPORT_COLUMNS, max_chars=160)
        with gr.Row():
            upload = gr.File(
                label="Add a report (.txt, .md, .html, .pdf, .docx)", file_types=UPLOAD_TYPES,
                type="filepath", elem_id="upload", height=150)
            with gr.Column():
                overwrite = gr.Checkbox(
                    label="Replace a report with the same file name", value=False)
                add = gr.Button("Add to corpus and re-index", variant="primary")
                message = gr.HTML("", elem_id="upload-status", js_on_load=None)
        with gr.Row(equal_height=False):
            remove_choice = gr.Dropdown(choices=[], value=None, elem_id="remove-choice",
                                        label="Remove a report from the corpus folder and "
                                              "the index", scale=3)
            with gr.Column(scale=1):
                remove = gr.Button("Remove and re-index", variant="stop", elem_id="remove")
                remove_message = gr.HTML("", elem_id="remove-status", js_on_load=None)
    return ReportsView(tab, index_status, table, upload, overwrite, add, message,
                       remove_choice, remove, remove_message)


def create_app(assistant: Assistant) -> gr.Blocks:
    """Build the interface for ``assistant``; nothing is launched or loaded."""
    h = Handlers(assistant)
    private: dict[str, Any] = {"api_visibility": "private"}
    demo = gr.Blocks(title="Reports assistant", analytics_enabled=False)
    with demo:
        rows = gr.State([])
        pending = gr.State(None)
        gr.Markdown(INTRO)
        def cite_preview(citation_id: str) -> dict[str, str]:
            """The quoted sentence and report of a hovered citation (called from the page)."""
            return h.cite_preview(citation_id)

        with gr.Tabs():
            c = _chat_tab(cite_preview)
            r = _reports_tab()

        model_state: dict[str, Any] = dict(fn=h.model_line, outputs=[c.model, c.timer],
                                           queue=False, show_progress="hidden", **private)
        demo.load(**model_state)
        c.timer.tick(**model_state)
        turn: dict[str, Any] = dict(fn=h.add_turn, inputs=[c.question, c.chat],
                                    outputs=[c.question, c.chat, pending, c.status], queue=False,
                                    **private)
        answer: dict[str, Any] = dict(
            fn=h.answer, inputs=[pending, c.chat, c.reports, c.outlets, c.since, c.until],
            outputs=[c.chat, c.status, c.sources, rows, c.passage, c.tools],
            concurrency_limit=1, concurrency_id="model", show_progress="minimal", **private)
        submitted = c.question.submit(**turn).then(**answer)
        clicked = c.ask.click(**turn).then(**answer)
        c.stop.click(h.stop, [c.chat], [c.chat, c.status], cancels=[submitted, clicked],
                     queue=False, **private)

        lookups: dict[str, Any] = dict(outputs=[c.passage], concurrency_limit=4,
                                       concurrency_id="lookup", **private)
        c.passage.select(h.show_link, [rows], **lookups)
        c.sources.select(h.show_source, [rows], **lookups)
        c.lookup.submit(h.passage_view, [c.lookup], **lookups)

        listing: dict[str, Any] = dict(outputs=[r.index_status, r.table], queue=False, **private)
        choosing: dict[str, Any] = dict(fn=h.choices,
                                        outputs=[c.reports, c.outlets, r.remove_choice],
                                        queue=False, **private)
        demo.load(h.reports, **listing).then(**choosing)
        r.tab.select(h.reports, **listing).then(**choosing)
        # ``upload`` (a file chosen), not ``change``: the add handler clears the file input,
        # and a ``change`` then raced with its message and could blank it.
        r.upload.upload(lambda: "", outputs=[r.message], queue=False, **private)
        r.add.click(h.upload, [r.upload, r.overwrite],
                    [r.message, r.index_status, r.table, r.upload],
                    concurrency_limit=1, concurrency_id="index", **private).then(**choosing)
        r.remove.click(h.remove, [r.remove_choice],
                       [r.remove_message, r.index_status, r.table],
                       concurrency_limit=1, concurrency_id="index", **private).then(**choosing)

        # The API for programs (gradio_client) and, with ``launch(mcp=True)``, the MCP tools:
        # each function's name is its tool's name, its docstring the tool's description.
        def ask(question: str, history: list[dict[str, str]] | None = None,
                reports: list[str] | None = None) -> dict[str, Any]:
            """Answer a question from the news reports, citing the passage of every claim.

            Args:
                question: The question, in plain words.
                history: Earlier turns, oldest first: [{"role": "user"|"assistant", "content"}].
                reports: Report ids (from list_reports) to answer from; none or [] for all.

            Returns:
                {"answer" (text with [n] markers), "refused", "citations": [{"n", "id", "doc_id", "title", "start", "end", "quote", "page"}], "unsupported", "other_reports"}; pass a citation's "id" to lookup.

            """  # noqa: E501 - Gradio reads each description from one line
            return h.api_ask(question, history, reports)

        def search(query: str, k: int = 5, reports: list[str] | None = None
                   ) -> list[dict[str, Any]]:
            """Find the passages that best match a query, best first (no answer is written).

            Args:
                query: What to look for.
                k: How many passages to return, 1 to 20.
                reports: Report ids (from list_reports) to search; none or [] for all.

            Returns:
                [{"id", "doc_id", "title", "page", "score", "text"}]; pass an "id" to lookup.

            """
            return h.api_search(query, k, reports)

        def lookup(citation_id: str) -> dict[str, Any]:
            """Return the exact passage of a citation id, with its report's metadata.

            Args:
                citation_id: An id from ask or search, like "report-name:120-480:1a2b3c4d".

            Returns:
                {"citation_id", "doc_id", "title", "outlet", "authors", "date", "url", "start", "end", "page", "heading" (title, section, term where the span starts), "text" (the cited span), "before", "after"}.

            """  # noqa: E501 - Gradio reads each description from one line
            return h.api_lookup(citation_id)

        def list_reports() -> list[dict[str, Any]]:
            """List the report files of the corpus and their state.

            Returns:
                [{"doc_id", "file", "state" (indexed, skipped, changed/new/removed since indexing), "reason", "title", "outlet", "date", "pages", "passages"}].

            """  # noqa: E501 - Gradio reads each description from one line
            return h.api_reports()

        gradio_api(ask, api_name="ask", concurrency_limit=1, concurrency_id="model")
        gradio_api(search, api_name="search", concurrency_limit=4, concurrency_id="lookup")
        gradio_api(lookup, api_name="lookup", concurrency_limit=4, concurrency_id="lookup")
        gradio_api(list_reports, api_name="list_reports", concurrency_limit=4,
                   concurrency_id="lookup")
    return demo


def private_paths(assistant: Assistant) -> list[str]:
    """Folders Gradio must never serve a file from, even if asked for them by path.

    Gradio serves only its own upload cache and static files anyway; this keeps the
    reports, the index and the model cache out of reach should that ever change.
    """
    return [str(Path(folder).resolve()) for folder in assistant.data_folders]


def _no_proxy_for_loopback() -> None:
    """Keep Gradio's start-up self-check off any configured HTTP proxy."""
    for var in ("NO_PROXY", "no_proxy"):
        hosts = [h.strip() for h in os.environ.get(var, "").split(",") if h.strip()]
        for host in ("127.0.0.1", "localhost"):
            if host not in hosts:
                hosts.append(host)
        os.environ[var] = ",".join(hosts)


def launch(target: Assistant | Settings, host: str = "127.0.0.1", port: int = 7860, *,
           block: bool = True, out: TextIO | None = None, mcp: bool = False) -> gr.Blocks:
    """Serve the UI for an assistant (or for the assistant that ``Settings`` open).

    Listens on ``host:port`` (loopback by default), never shares publicly and
    prints the local URL on ``out`` (standard output by default), flushed. With
    ``mcp`` the API functions (ask, search, lookup, list_reports) are also MCP tools,
    at ``/gradio_api/mcp/`` (streamable HTTP; SSE at ``/gradio_api/mcp/sse``). With
    ``block=False`` the server runs in a background thread and the app is returned at
    once; stop it with ``app.close()``.
    """
    if mcp and importlib.util.find_spec("mcp") is None:
        raise ConfigError("serving MCP tools needs the MCP SDK: pip install -e \".[mcp]\"")
    assistant = Assistant.open(settings=target) if isinstance(target, Settings) else target
    _no_proxy_for_loopback()
    demo = create_app(assistant)
    demo.queue(default_concurrency_limit=1, max_size=QUEUE_SIZE)
    _, local_url, _ = demo.launch(
        server_name=host, server_port=port, share=False, ssr_mode=False, inbrowser=False,
        max_file_size=assistant.upload_limits.max_bytes, prevent_thread_lock=True, quiet=True,
        blocked_paths=private_paths(assistant), allowed_paths=[],
        show_error=False, enable_monitoring=False, mcp_server=mcp, run_history=False,
        pwa=False, footer_links=["api"], css=CSS)
    stream = out or sys.stdout
    stream.write(f"Reports assistant: open {local_url} in a browser (Ctrl+C stops it)\n")
    if mcp:
        stream.write(f"MCP tools (streamable HTTP): {local_url}gradio_api/mcp/\n")
    stream.flush()
    if block:
        try:
            demo.block_thread()
        finally:
            demo.close()
    return demo
