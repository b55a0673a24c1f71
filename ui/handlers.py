"""Event handlers of the web UI: they call the :class:`~assistant.Assistant` and return views.

Handlers never let an exception reach the browser as a traceback: errors of the
assistant become their own short message, anything else a generic one (and the
details go to the server log).
"""

from __future__ import annotations

import dataclasses
import html
import logging
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import gradio as gr

from assistant.errors import AssistantError, DocumentError
from assistant.records import Answer, Hit, Status, TextDelta
from ui import render

if TYPE_CHECKING:
    from assistant import Assistant

logger = logging.getLogger(__name__)

ChatHistory = list[dict[str, Any]]
GENERIC_ERROR = "something went wrong on the server; the server log has the details"
WAITING = render.status_html("waiting", "waiting for the model (one question at a time)")
SEARCH_MAX = 20  # passages one API search returns at most
PASSAGE_HINT = "Click a citation like [1] in an answer, or a source below it, to see the passage."
EMPTY_QUESTION = "Type a question first: the box is empty."


def user_message(exc: BaseException) -> str:
    """Return the message shown for ``exc``: the assistant's own, else a generic one."""
    if isinstance(exc, AssistantError) and str(exc).strip():
        return str(exc).strip()
    return GENERIC_ERROR


def _log_unexpected(exc: BaseException, what: str) -> None:
    if not isinstance(exc, AssistantError):
        logger.error("%s failed", what, exc_info=exc)


class Handlers:
    """The UI's callbacks, bound to one assistant."""

    def __init__(self, assistant: Assistant) -> None:
        self.assistant = assistant

    # ------------------------------------------------------------------- chat
    def add_turn(self, question: str, chat: ChatHistory | None
                 ) -> tuple[str, ChatHistory, dict[str, Any] | None, Any]:
        """Show the question in the chat at once, with a waiting line; clear the textbox.

        Returns the textbox value, the chat, the question to answer with the time it
        was asked (``None`` when there is nothing to ask) and the status line: an
        empty question is not sent, and the status line says so.
        """
        text = " ".join(str(question or "").split())
        history = list(chat or [])
        if not text:
            return "", history, None, render.message_html("info", EMPTY_QUESTION)
        history.append({"role": "user", "content": render.escape_md(text)})
        history.append({"role": "assistant", "content": WAITING})
        return "", history, {"question": text, "asked_at": time.monotonic()}, WAITING

    def answer(self, pending: dict[str, Any] | None, chat: ChatHistory | None,
               reports: list[str] | None = None, outlets: list[str] | None = None,
               since: str | None = None, until: str | None = None
               ) -> Iterator[tuple[Any, ...]]:
        """Stream the answer to the pending question into the last chat message.

        ``reports``, ``outlets``, ``since`` and ``until`` restrict it to some reports
        (nothing chosen: every report). Yields the chat, the status line, the sources
        table, the sources' rows (what a click on one opens), the passage panel and the
        copy tools. The passage panel follows the latest answer: it is cleared when a
        question starts and shows the answer's first citation when it is done. The time
        shown counts from the moment the question was asked, so the wait in the queue is
        included.
        """
        history = list(chat or [])
        if not pending or not history:
            yield history, gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
            return
        question = str(pending["question"])
        asked_at = float(pending["asked_at"])
        earlier = render.plain_history(history[:-2])
        events = self.assistant.ask_stream(
            question, earlier, reports=list(reports or []), outlets=list(outlets or []),
            since=str(since or "").strip() or None, until=str(until or "").strip() or None)
        text = ""
        try:
            for event in events:
                if isinstance(event, Status):
                    line = render.status_html(event.stage, event.detail)
                    if not text:
                        history[-1] = {"role": "assistant", "content": line}
                    if event.hits:  # the evidence, shown before the model writes
                        yield (list(history), line,
                               gr.Dataset(samples=render.hit_samples(event.hits, self._titles())),
                               _rows(event.hits, question), gr.skip(), gr.skip())
                        continue
                    if event.stage == "searching":  # a new answer: nothing of the last one
                        yield (list(history), line, gr.Dataset(samples=[]), [],
                               render.placeholder_html(PASSAGE_HINT), "")
                        continue
                    yield list(history), line, gr.skip(), gr.skip(), gr.skip(), gr.skip()
                elif isinstance(event, TextDelta):
                    text += event.text
                    history[-1] = {"role": "assistant", "content": render.draft_html(text)}
                    yield list(history), gr.skip(), gr.skip(), gr.skip(), gr.skip(), gr.skip()
                elif isinstance(event, Answer):
                    yield self._final(event, history, time.monotonic() - asked_at)
        except Exception as exc:
            _log_unexpected(exc, "answering")
            notice = render.message_html("error", user_message(exc))
            history[-1] = {"role": "assistant", "content": notice}
            yield history, notice, gr.Dataset(samples=[]), [], gr.skip(), ""
        finally:
            events.close()

    def _final(self, answer: Answer, history: ChatHistory, waited: float = 0.0
               ) -> tuple[Any, ...]:
        """The finished answer's views; ``waited`` is the time since it was asked."""
        seconds = max(waited, answer.timings.get("total_s", 0.0))
        history[-1] = {"role": "assistant",
                       "content": render.link_markers(answer.segments())
                       + render.other_reports_html(answer.other_reports, self._outlets())}
        took = f" in {seconds:.1f} s"
        if answer.refused:
            closest = answer.closest
            note = f"the reports do not answer this{took}"
            if closest:
                note += "; the closest passages are listed below"
            line = render.message_html("info", note)
            return (history, line,
                    gr.Dataset(samples=render.hit_samples(closest, self._titles())),
                    _rows(closest, answer.question), render.placeholder_html(PASSAGE_HINT),
                    "")
        count = len(answer.citations)
        note = f"answered{took} with {count} source{'s' if count != 1 else ''}"
        line = render.message_html("info", note) + render.left_out_html(answer.unsupported)
        cited = (*answer.citations, *answer.other_reports)
        first = self.passage_view(cited[0].id) if cited else render.placeholder_html(
            PASSAGE_HINT)
        reports = self.assistant.reports
        tools = render.copy_tools_html(answer.to_text(reports), answer.to_markdown(reports))
        return (history, line, gr.Dataset(samples=render.source_samples(cited)),
                [{"id": c.id} for c in cited], first, tools)

    def _titles(self) -> dict[str, str | None]:
        """Report titles by id, for the sources table."""
        return {d["doc_id"]: d.get("title") for d in self.assistant.documents()}

    def _outlets(self) -> dict[str, str | None]:
        """Report outlets by id, to name the other reports quoted under an answer."""
        return {d["doc_id"]: d.get("outlet") for d in self.assistant.documents()}

    def stop(self, chat: ChatHistory | None) -> tuple[ChatHistory, str]:
        """Mark the answer being written as stopped."""
        history = list(chat or [])
        notice = render.message_html("stopped", "(stopped)")
        if history and history[-1].get("role") == "assistant":
            content = history[-1].get("content")
            partial = render.plain_text(content) if not _is_status(content) else ""
            body = f"{render.escape_md(partial)} {notice}" if partial else notice
            history[-1] = {"role": "assistant", "content": body}
        return history, notice

    # --------------------------------------------------------------- passages
    def passage_view(self, citation_id: str) -> str:
        """Show the passage of ``citation_id`` highlighted in its article, or a short message."""
        cid = str(citation_id or "").strip()
        if not cid:
            return render.placeholder_html("Type a citation id, e.g. report-name:120-480:1a2b3c4d.")
        try:
            passage = self.assistant.lookup(cid)
        except Exception as exc:
            _log_unexpected(exc, "citation lookup")
            return render.placeholder_html(user_message(exc))
        try:
            full_text: str | None = self.assistant.document(passage.doc_id).text
        except AssistantError:
            full_text = None
        return render.passage_html(passage, full_text)

    def show_link(self, rows: list[dict[str, str]] | None, evt: gr.SelectData) -> str:
        """Show the passage of a clicked citation link of the chat (its id is ``evt.value``)."""
        cid = str(evt.value or "").strip()
        if not cid and isinstance(evt.index, int) and rows:
            cid = rows[evt.index - 1]["id"] if 0 < evt.index <= len(rows) else ""
        return self.passage_view(cid)

    def show_source(self, rows: list[dict[str, str]] | None, evt: gr.SelectData) -> str:
        """Show the passage of a clicked row of the sources table.

        A cited source opens at its quoted sentence; a passage that was only retrieved
        opens at its sentence closest to the question, not as the whole passage.
        """
        index = evt.index[0] if isinstance(evt.index, list | tuple) else evt.index
        if not rows or not isinstance(index, int) or not 0 <= index < len(rows):
            return render.placeholder_html("That source is no longer available.")
        row = rows[index]
        cid = row["id"]
        if row.get("question"):
            try:
                cid = self.assistant.closest_sentence(cid, row["question"])
            except Exception as exc:
                _log_unexpected(exc, "finding the matched sentence")
        return self.passage_view(cid)

    def cite_preview(self, citation_id: str) -> dict[str, str]:
        """What hovering a citation shows: the quoted sentence and its report."""
        try:
            passage = self.assistant.lookup(str(citation_id or ""))
        except Exception as exc:
            _log_unexpected(exc, "citation preview")
            return {"error": user_message(exc)}
        source = " · ".join(m for m in (passage.outlet, passage.date) if m)
        return {"quote": " ".join(passage.text.split()),
                "title": passage.title or passage.doc_id, "source": source}

    def model_line(self) -> tuple[str, Any]:
        """The model's state for the chat tab, and the timer (stopped once it is ready)."""
        status = self.assistant.model_status
        ready = self.assistant.model_ready or status.startswith(("ready", "the model could"))
        kind = "error" if status.startswith("the model could") else "model"
        return (render.model_html(status, kind, busy=not ready),
                gr.Timer(active=not ready))

    # ---------------------------------------------------------------- reports
    def reports(self) -> tuple[str, list[list[Any]]]:
        """Return the index status (Markdown) and the rows of the reports table.

        Each report's row says its state: indexed, skipped (and why), changed, new or
        removed since the index was last refreshed.
        """
        try:
            states = self.assistant.report_states()
            status = render.index_status_md(self.assistant.build_report,
                                            len(self.assistant.documents()),
                                            self.assistant.skipped())
            model = self.assistant.model_status
            if model:
                status += f"\n\n**Model:** {render.escape_md(model)}"
        except Exception as exc:
            _log_unexpected(exc, "listing reports")
            return f"Error: {user_message(exc)}", []
        return status, render.report_rows(states)

    def choices(self) -> tuple[Any, Any, Any]:
        """The choices of the reports and outlets to ask about, and of the reports to remove.

        What was chosen and is still there stays chosen.
        """
        try:
            states = self.assistant.report_states()
        except Exception as exc:
            _log_unexpected(exc, "listing reports")
            return gr.skip(), gr.skip(), gr.skip()
        return (gr.Dropdown(choices=render.report_choices(states)),
                gr.Dropdown(choices=render.outlet_choices(states)),
                gr.Dropdown(choices=render.removable_choices(states), value=None))

    def remove(self, name: str | None,
               progress: gr.Progress = gr.Progress()) -> tuple[str, str, list[list[Any]]]:  # noqa: B008
        """Remove a report from the corpus folder and the index.

        Returns the message, the index status and the reports table.
        """
        chosen = str(name or "").strip()
        if not chosen:
            status, rows = self.reports()
            return "Choose a report to remove first.", status, rows
        progress(0, desc="removing")
        try:
            report = self.assistant.remove_report(chosen)
        except DocumentError as exc:
            status, rows = self.reports()
            return render.message_html("error", f"not removed: {exc}"), status, rows
        except Exception as exc:
            _log_unexpected(exc, "re-indexing after a removal")
            status, rows = self.reports()
            message = f"{chosen} was removed, but re-indexing failed: {user_message(exc)}"
            return render.message_html("error", message), status, rows
        status, rows = self.reports()
        message = (f"removed {chosen}; index {report.status}: {report.documents} reports, "
                   f"{report.chunks} passages")
        return render.message_html("info", message), status, rows

    def upload(self, file: str | None, overwrite: bool,
               progress: gr.Progress = gr.Progress()) -> tuple[str, str, list[list[Any]], None]:  # noqa: B008
        """Add an uploaded report to the corpus and refresh the index.

        Returns the upload message, the index status, the reports table and
        ``None`` to clear the file input.
        """
        if not file:
            status, rows = self.reports()
            return "Choose a .txt, .md, .html, .pdf or .docx file first.", status, rows, None
        source = Path(file)
        try:
            data = source.read_bytes()
            stored = self.assistant.add_report(source.name, data, overwrite=bool(overwrite))
        except OSError:
            message = f"{source.name!r} could not be read"
            status, rows = self.reports()
            return render.message_html("error", message), status, rows, None
        except DocumentError as exc:
            status, rows = self.reports()
            return render.message_html("error", f"not added: {exc}"), status, rows, None
        progress(0, desc="indexing")
        try:
            report = self.assistant.reindex(
                progress=lambda doc, done, total: progress(
                    (done, total), desc=f"indexing {doc}" if doc else "indexing", unit="reports"))
        except Exception as exc:
            _log_unexpected(exc, "re-indexing")
            status, rows = self.reports()
            message = f"{stored.name} was added, but re-indexing failed: {user_message(exc)}"
            return render.message_html("error", message), status, rows, None
        status, rows = self.reports()
        message = (f"added {stored.name}; index {report.status}: {report.documents} reports, "
                   f"{report.chunks} passages")
        return render.message_html("info", message), status, rows, None

    # -------------------------------------------------------------------- API
    def api_ask(self, question: str, history: list[Any] | None,
                reports: list[str] | None = None) -> dict[str, Any]:
        """``/ask``: the answer as a dict, or a :class:`gr.Error` with a short message."""
        try:
            return self.assistant.ask(question, history or [],
                                      reports=list(reports or [])).to_dict()
        except Exception as exc:
            _log_unexpected(exc, "API ask")
            raise gr.Error(_plain(user_message(exc)), print_exception=False) from None

    def api_search(self, query: str, k: int = 5,
                   reports: list[str] | None = None) -> list[dict[str, Any]]:
        """``/search``: the best passages as dicts (``k`` kept within 1 to 20)."""
        try:
            hits = self.assistant.search(query, k=max(1, min(SEARCH_MAX, int(k))),
                                         reports=list(reports or []))
            titles = self._titles()
            return [{"id": h.citation_id, "doc_id": h.chunk.doc_id,
                     "title": titles.get(h.chunk.doc_id), "page": h.chunk.page,
                     "score": round(h.score, 6), "text": h.chunk.text} for h in hits]
        except Exception as exc:
            _log_unexpected(exc, "API search")
            raise gr.Error(_plain(user_message(exc)), print_exception=False) from None

    def api_lookup(self, citation_id: str) -> dict[str, Any]:
        """``/lookup``: the cited passage as a dict, or a :class:`gr.Error`."""
        try:
            return self.assistant.lookup(citation_id).to_dict()
        except Exception as exc:
            _log_unexpected(exc, "API lookup")
            raise gr.Error(_plain(user_message(exc)), print_exception=False) from None

    def api_reports(self) -> list[dict[str, Any]]:
        """``/list_reports``: every report file and its state, as dicts."""
        try:
            return [dataclasses.asdict(s) for s in self.assistant.report_states()]
        except Exception as exc:
            _log_unexpected(exc, "API list_reports")
            raise gr.Error(_plain(user_message(exc)), print_exception=False) from None


def _rows(hits: Sequence[Hit], question: str) -> list[dict[str, str]]:
    """What a click on a retrieved passage's row opens: its sentence closest to ``question``."""
    return [{"id": h.citation_id, "question": question} for h in hits]


def _plain(message: str) -> str:
    """``message`` safe to show in Gradio's error toast, which renders HTML."""
    return html.escape(message, quote=False)


def _is_status(content: Any) -> bool:
    text = content if isinstance(content, str) else str(content or "")
    return 'class="status' in text and not render.plain_text(text)
