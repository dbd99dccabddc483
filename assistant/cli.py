"""The ``khabar`` command: ask, chat, ingest, fetch-models, serve, eval."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from assistant.errors import ArticleError, KhabarError
from assistant.evaluation.command import eval_command
from assistant.schemas import Answer, IngestReport, Message
from assistant.settings import ANSWER_MODES

app = typer.Typer(help="Khabar: ask questions about a news article and get cited answers.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
console = Console()
err = Console(stderr=True)

ModeOption = Annotated[str | None, typer.Option("--mode", "-m", help="extractive or generative.")]


def _assistant(progress: bool = True, *, ingest_corpus: bool = True):
    from assistant.facade import Assistant

    return Assistant(progress=progress, ingest_corpus=ingest_corpus)


def _fail(exc: Exception, code: int = 1) -> None:
    err.print(f"[red]error:[/red] {exc}")
    raise typer.Exit(code)


def _check_mode(mode: str | None) -> None:
    if mode is not None and mode not in ANSWER_MODES:
        _fail(ValueError(f"unknown mode {mode!r}: use {' or '.join(ANSWER_MODES)}"), 2)


def _print_answer(answer: Answer, *, show_sources: bool = True) -> None:
    console.print(f"[dim]({answer.mode}, {answer.timings.get('total', 0):.0f} ms)[/dim]")
    if show_sources:
        for c in answer.citations:
            console.print(f"[bold][{c.n}][/bold] {c.passage_id}: [italic]{c.quote}[/italic]")


def _stream_answer(assistant, question: str, history: list[Message], mode: str | None) -> Answer:
    """Print the answer as it streams, then its mode, timing and sources; return it."""
    answer = None
    for item in assistant.stream(question, history, mode=mode):
        if isinstance(item, str):
            console.print(item, end="", markup=False, highlight=False)
        else:
            answer = item
    console.print()
    assert answer is not None  # Assistant.stream always ends with the Answer
    _print_answer(answer)
    return answer


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="The question, in Arabic or English.")],
    mode: ModeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole answer object as JSON.")] = False,
) -> None:
    """Answer one question and print the answer with its citations."""
    _check_mode(mode)
    try:
        assistant = _assistant(progress=not as_json)
        if as_json:
            answer = assistant.ask(question, mode=mode)
            sys.stdout.write(answer.model_dump_json(indent=2) + "\n")
            return
        _stream_answer(assistant, question, [], mode)
    except KhabarError as exc:
        _fail(exc)


@app.command()
def chat(mode: ModeOption = None) -> None:
    """A conversation in the terminal; an empty line or Ctrl-D ends it, ``/new`` starts afresh."""
    _check_mode(mode)
    try:
        assistant = _assistant()
    except KhabarError as exc:
        _fail(exc)
    history: list[Message] = []
    while True:
        try:
            question = console.input("[bold green]? [/bold green]")
        except (EOFError, KeyboardInterrupt):
            break
        if not question.strip():
            break
        if question.strip() == "/new":
            history = []
            continue
        try:
            answer = _stream_answer(assistant, question, history, mode)
            history += [Message(role="user", content=question),
                        Message(role="assistant", content=answer.answer)]
        except KhabarError as exc:
            err.print(f"[red]error:[/red] {exc}")
    assistant.close()


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(
        help="Article files or folders (searched recursively): .txt, .md, .html, .jsonl (one article a "
             "line) or SQuAD .json (one article a paragraph). UTF-8.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Add articles to the index: new ones are added, unchanged ones skipped, changed ones replaced.

    Each article is committed as soon as it is embedded, so an interrupted run, run again, does the rest.
    """
    from assistant.ingest.sources import collect

    missing = [str(f) for f in paths if not f.exists()]
    if missing:
        _fail(FileNotFoundError(f"no such file or folder: {', '.join(missing)}"), 2)
    found = collect(paths)
    try:
        # Only the paths given are indexed: the configured corpus is not re-checked first. With no article,
        # nothing is loaded: the report says what was skipped, and the exit code that nothing was ingested.
        report = (_assistant(progress=not as_json, ingest_corpus=False).ingest_articles(found.articles)
                  if found.articles else IngestReport())
    except KhabarError as exc:
        _fail(exc)
    except KeyboardInterrupt:
        err.print("[yellow]interrupted:[/yellow] the articles written so far are kept; run the same command "
                  "again to ingest the rest")
        raise typer.Exit(130) from None
    if as_json:
        skipped = [s.model_dump() for s in found.skipped]
        sys.stdout.write(json.dumps({**report.model_dump(), "skipped": skipped}, ensure_ascii=False, indent=2)
                         + "\n")
    else:
        for skipped in found.skipped:
            console.print(f"[yellow]skipped[/yellow] {escape(skipped.source)}: {escape(skipped.reason)}",
                          highlight=False, soft_wrap=True)
        console.print(f"added {len(report.added)}, unchanged {len(report.unchanged)}, replaced "
                      f"{len(report.replaced)}, skipped {len(found.skipped)} "
                      f"({report.passages} passages written)")
    if not found.articles:
        # A script must see that nothing it gave was an article (an empty file, a wrong folder).
        err.print("[red]error:[/red] no article found in the paths given", highlight=False)
        raise typer.Exit(1)


@app.command("fetch-models")
def fetch_models(
    llm: Annotated[bool, typer.Option("--llm/--no-llm", help="Also fetch the local generative model.")]
    = False,
) -> None:
    """Download (or find) and verify the models, so that later runs work offline."""
    from assistant.models.encoders import prepare_backend
    from assistant.models.files import resolve_embedding_model, resolve_llm_file
    from assistant.settings import get_settings

    settings = get_settings()
    try:
        source = resolve_embedding_model(settings)
        console.print(f"embedding model: {source}")
        exported = prepare_backend(settings.embedding_backend, source, settings.models_dir)
        if exported is not None:
            console.print(f"embedding backend {settings.embedding_backend}: {exported}")
        if llm:
            console.print(f"generative model: {resolve_llm_file(settings)}")
    except KhabarError as exc:
        _fail(exc)


@app.command()
def articles() -> None:
    """List the indexed articles."""
    try:
        listing = _assistant(progress=False).articles()
    except KhabarError as exc:
        _fail(exc)
    console.print_json(json.dumps([a.model_dump() for a in listing], ensure_ascii=False))


@app.command()
def remove(
    ids: Annotated[list[str], typer.Argument(help="Ids of articles, as `khabar articles` lists them.")],
) -> None:
    """Remove articles from the index. One of the configured corpus (KHABAR_CORPUS) comes back at the next
    start unless the setting leaves it out."""
    from assistant.ingest.loading import article_id_for

    try:
        assistant = _assistant(progress=False, ingest_corpus=False)
        configured = {article_id_for(path) for path in assistant.settings.corpus}
        unknown = []
        for article_id in dict.fromkeys(ids):
            try:
                assistant.remove_article(article_id)
            except ArticleError:
                unknown.append(article_id)
                continue
            note = " (it is in KHABAR_CORPUS: indexed again at the next start)" if article_id in configured \
                else ""
            console.print(f"removed {escape(article_id)}{note}", highlight=False, soft_wrap=True)
    except KhabarError as exc:
        _fail(exc)
    if unknown:
        err.print(f"[red]error:[/red] no article with id {escape(', '.join(unknown))}", highlight=False)
        raise typer.Exit(1)


app.command("eval")(eval_command)


@app.callback()
def main(verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False):
    """Set up logging for every command."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
