"""Showing a report: a rich table in the terminal, the JSON file, and an HTML or Markdown page.

Modes are columns side by side, and for a suite with halves each mode's whole-suite column is followed by
its ``tune`` and ``held`` columns; the HTML page shows every failing case with its question, answer and
retrieved passages, Arabic right-to-left.
"""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

from rich.table import Table

from assistant.evaluation.results import STABLE_KEYS, CaseResult, EvalReport, Summary
from assistant.textnorm import detect_language

#: Rows of the summary tables: the stable keys, then a few of the extra ones.
TABLE_KEYS = (*STABLE_KEYS, "top_passage_contains_reference", "answering_words_contain_reference",
              "topic_change_as_alone", "topic_change_same_as_alone", "citations_in_retrieved",
              "answer_length_chars", "pass_rate", "errors", "throughput_qps")
#: Rows of the per-language and per-kind tables (latency and throughput are whole-run figures).
DETAIL_KEYS = tuple(k for k in TABLE_KEYS if not k.startswith(("latency", "throughput")))

Column = tuple[str, Summary]


def fmt(value: object) -> str:
    """A metric for display: ``-`` for None, 3 decimals for shares, 1 for milliseconds."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return f"{value:.3f}" if abs(value) <= 1.0 else f"{value:.1f}"
    return str(value)


def modes_text(summary: Summary) -> str:
    """``extractive 60, not_found 20``: what kind of answer the assistant gave, and how often."""
    return ", ".join(f"{mode} {n}" for mode, n in summary.answer_modes.items()) or "-"


def _row(summary: Summary, key: str) -> object:
    return summary.model_dump(by_alias=True).get(key)


def summary_columns(report: EvalReport) -> list[Column]:
    """``(header, summary)`` per mode: the whole run, then each half (``tune``, ``held``) if it has halves."""
    columns: list[Column] = []
    for mode, summary in report.summary.items():
        label = report.config.split or "all"
        columns.append((f"{mode} {label}" if report.by_split else mode, summary))
        if report.config.split is None:
            columns += [(f"{mode} {split}", by_mode[mode]) for split, by_mode in report.by_split.items()
                        if mode in by_mode]
    return columns


def language_columns(report: EvalReport) -> list[Column]:
    """Per language and mode: the whole run, then each half (``ar extractive all``, ``… held``)."""
    columns: list[Column] = []
    halves = report.by_split_language if report.config.split is None else {}
    for lang, by_mode in report.by_language.items():
        for mode, summary in by_mode.items():
            columns.append((f"{lang} {mode}" + (" all" if halves else ""), summary))
            columns += [(f"{lang} {mode} {split}", by_lang[lang][mode]) for split, by_lang in halves.items()
                        if lang in by_lang and mode in by_lang[lang]]
    return columns


def kind_columns(report: EvalReport) -> list[Column]:
    """Per case kind (answerable, unanswerable, topic-change, follow-up) and mode."""
    return [(f"{kind} {mode}" if len(report.summary) > 1 else kind, summary)
            for kind, by_mode in report.by_kind.items() for mode, summary in by_mode.items()]


def _table(title: str, columns: list[Column], keys: tuple[str, ...], *, modes_row: bool = True) -> Table:
    table = Table(title=title)
    table.add_column("metric", no_wrap=True)
    for header, _ in columns:
        table.add_column(header, justify="right")
    for key in keys:
        values = [_row(s, key) for _, s in columns]
        if key not in STABLE_KEYS and all(v is None for v in values):
            continue  # e.g. topic-change rows of a suite without topic changes
        table.add_row(key, *(fmt(v) for v in values))
    if modes_row:
        table.add_row("answer modes", *(modes_text(s) for _, s in columns))
    return table


def summary_table(report: EvalReport) -> Table:
    """Overall metrics, one column per mode (and per half of the suite, side by side)."""
    title = f"{report.suite.name}: {report.suite.cases} cases, k={report.config.k}"
    if report.config.split:
        title += f", split {report.config.split} only"
    return _table(title, summary_columns(report), TABLE_KEYS)


def language_table(report: EvalReport) -> Table:
    """Per-language metrics, one column per language and mode (and half)."""
    return _table("per language", language_columns(report), DETAIL_KEYS, modes_row=False)


def kind_table(report: EvalReport) -> Table:
    """Metrics per case kind: answerable, unanswerable, topic-change, follow-up."""
    return _table("per kind of case", kind_columns(report), DETAIL_KEYS)


def write_json(report: EvalReport, path: Path) -> None:
    """Write the `--json` document (UTF-8, Arabic unescaped)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report.to_json(), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def write_report(report: EvalReport, path: Path) -> None:
    """Write the readable report: Markdown for a ``.md`` path, HTML otherwise."""
    path.parent.mkdir(parents=True, exist_ok=True)
    text = to_markdown(report) if path.suffix.lower() in (".md", ".markdown") else to_html(report)
    path.write_text(text, encoding="utf-8")


def failing(report: EvalReport) -> list[CaseResult]:
    """The cases that failed, in suite order, mode after mode."""
    return [r for r in report.cases if not r.passed]


# --- HTML ----------------------------------------------------------------------------------------------

_CSS = """
body { font-family: system-ui, "Noto Naskh Arabic", "Segoe UI", sans-serif; margin: 2rem; color: #222; }
table { border-collapse: collapse; margin: 1rem 0; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; vertical-align: top; }
th { text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.case { border: 1px solid #ddd; border-radius: 6px; padding: .8rem 1rem; margin: 1rem 0; }
.reasons { color: #a00; }
.passage { font-size: .92em; margin: .3rem 0; }
.evidence { background: #eef8ee; }
[dir="rtl"] { font-size: 1.08em; }
.meta { color: #666; font-size: .85em; }
"""


def _dir(text: str) -> str:
    return "rtl" if detect_language(text, default="en") == "ar" else "ltr"


def _text(text: str, tag: str = "div", cls: str = "") -> str:
    klass = f' class="{cls}"' if cls else ""
    return f'<{tag} dir="{_dir(text)}"{klass}>{escape(text)}</{tag}>'


def _html_table(header: list[str], summaries: list[Summary], keys: tuple[str, ...]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in header)
    body = []
    for key in keys:
        values = [_row(s, key) for s in summaries]
        if key not in STABLE_KEYS and all(v is None for v in values):
            continue
        cells = "".join(f'<td class="num">{escape(fmt(v))}</td>' for v in values)
        body.append(f"<tr><th>{escape(key)}</th>{cells}</tr>")
    cells = "".join(f"<td>{escape(modes_text(s))}</td>" for s in summaries)
    body.append(f"<tr><th>answer modes</th>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _html_case(r: CaseResult) -> str:
    half = f" · {r.split}" if r.split else ""
    parts = [f'<div class="case"><div class="meta">{escape(r.id)} · {escape(r.mode)} · {escape(r.kind)}'
             f"{half} · answer: {escape(r.answer_mode or 'none')} · {fmt(r.latency_ms)} ms</div>"]
    for turn in r.history:
        parts.append(_text(f"{turn.role}: {turn.content}", cls="meta"))
    parts.append("<h4>Question</h4>" + _text(r.question))
    parts.append("<h4>Answer</h4>" + _text(r.answer or r.error or ""))
    parts.append('<ul class="reasons">' + "".join(f"<li>{escape(x)}</li>" for x in r.reasons) + "</ul>")
    if r.retrieved:
        parts.append("<h4>Retrieved passages</h4>")
        for p in r.retrieved:
            cls = "passage evidence" if p.evidence else "passage"
            label = (f"{p.rank}. {p.passage_id} (fused {p.score:.4f}, dense {fmt(p.dense_score)}"
                     f"{', evidence' if p.evidence else ''})")
            parts.append(f'<div class="{cls}"><div class="meta">{escape(label)}</div>{_text(p.text)}</div>')
    parts.append("</div>")
    return "".join(parts)


def to_html(report: EvalReport) -> str:
    """A self-contained HTML page: summary (halves side by side), per language and kind, failing cases."""
    modes = list(report.summary)
    split = f", split {report.config.split} only" if report.config.split else ""
    summary = summary_columns(report)
    languages = language_columns(report)
    kinds = kind_columns(report)
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Khabar evaluation: {escape(report.suite.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Khabar evaluation: {escape(report.suite.name)}</h1>",
        f'<p class="meta">{report.suite.cases} cases ({escape(report.suite.format)}), modes '
        f"{escape(', '.join(modes))}, ranking {escape(report.config.ranking or '-')}, k={report.config.k}, "
        "not-found threshold "
        f"{report.config.not_found_threshold}, lexical weight {report.config.max_lexical_weight}, "
        f"collection {escape(report.config.collection)}, started {escape(report.started_at)}, setup "
        f"{report.setup_seconds:.1f} s{escape(split)}</p>",
        "<h2>Summary</h2>",
        _html_table(["metric", *(h for h, _ in summary)], [s for _, s in summary], TABLE_KEYS),
        "<h2>Per language</h2>",
        _html_table(["metric", *(h for h, _ in languages)], [s for _, s in languages], DETAIL_KEYS),
    ]
    if kinds:
        parts += ["<h2>Per kind of case</h2>",
                  _html_table(["metric", *(h for h, _ in kinds)], [s for _, s in kinds], DETAIL_KEYS)]
    if report.gates:
        parts.append("<h2>Gates</h2><table><tr><th>mode</th><th>metric</th><th>min</th><th>value</th>"
                     "<th>ok</th></tr>")
        for g in report.gates:
            ok = "yes" if g.passed else "NO"
            parts.append(f"<tr><td>{escape(g.mode)}</td><td>{escape(g.metric)}</td><td class=\"num\">"
                         f"{g.minimum}</td><td class=\"num\">{fmt(g.value)}</td><td>{ok}</td></tr>")
        parts.append("</table>")
    if report.problems:
        parts.append("<h2>Suite problems</h2><ul>")
        parts.extend(f"<li>{escape(p.where)}: {escape(p.message)}</li>" for p in report.problems)
        parts.append("</ul>")
    failed = failing(report)
    parts.append(f"<h2>Failing cases ({len(failed)})</h2>")
    parts.extend(_html_case(r) for r in failed)
    parts.append("</body></html>")
    return "\n".join(parts)


# --- Markdown ------------------------------------------------------------------------------------------


def markdown_table(columns: list[Column], keys: tuple[str, ...] = TABLE_KEYS, *,
                   modes_row: bool = True) -> str:
    """A Markdown table of metrics (rows) by column, e.g. for the README."""
    lines = ["| metric | " + " | ".join(h for h, _ in columns) + " |", "|---|" + "---:|" * len(columns)]
    for key in keys:
        values = [_row(s, key) for _, s in columns]
        if key not in STABLE_KEYS and all(v is None for v in values):
            continue
        lines.append(f"| {key} | " + " | ".join(fmt(v) for v in values) + " |")
    if modes_row:
        lines.append("| answer modes | " + " | ".join(modes_text(s) for _, s in columns) + " |")
    return "\n".join(lines)


def markdown_summary(report: EvalReport) -> str:
    """The summary as a Markdown table (modes, and halves, as columns), e.g. for the README."""
    return markdown_table(summary_columns(report))


def to_markdown(report: EvalReport) -> str:
    """The report as Markdown: summary, per-language and per-kind tables, the failing cases."""
    out = [f"# Khabar evaluation: {report.suite.name}", "",
           f"{report.suite.cases} cases, k={report.config.k}, started {report.started_at}", "",
           markdown_summary(report), "", "## Per language", "",
           markdown_table(language_columns(report), DETAIL_KEYS, modes_row=False), ""]
    if report.by_kind:
        out += ["## Per kind of case", "", markdown_table(kind_columns(report), DETAIL_KEYS), ""]
    failed = failing(report)
    out += [f"## Failing cases ({len(failed)})", ""]
    for r in failed:
        out += [f"### {r.id} ({r.mode})", "", f"> {r.question}", "", f"{r.answer or r.error}", "",
                *(f"- {reason}" for reason in r.reasons), ""]
    return "\n".join(out)
