"""Showing a report: a rich table in the terminal, the JSON file, and an HTML or Markdown page.

Modes are columns side by side; the HTML page shows every failing case with its question, answer and
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
TABLE_KEYS = (*STABLE_KEYS, "citations_in_retrieved", "answer_length_chars", "pass_rate", "errors",
              "throughput_qps")


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


def summary_table(report: EvalReport) -> Table:
    """Overall metrics, one column per mode."""
    table = Table(title=f"{report.suite.name}: {report.suite.cases} cases, k={report.config.k}")
    table.add_column("metric")
    for mode in report.summary:
        table.add_column(mode, justify="right")
    for key in TABLE_KEYS:
        table.add_row(key, *(fmt(_row(s, key)) for s in report.summary.values()))
    table.add_row("answer modes", *(modes_text(s) for s in report.summary.values()))
    return table


def language_table(report: EvalReport) -> Table:
    """Per-language metrics, one column per language and mode."""
    table = Table(title="per language")
    table.add_column("metric")
    columns = [(lang, mode, s) for lang, modes in report.by_language.items() for mode, s in modes.items()]
    for lang, mode, _ in columns:
        table.add_column(f"{lang} {mode}", justify="right")
    for key in STABLE_KEYS:
        if key.startswith("latency"):
            continue
        table.add_row(key, *(fmt(_row(s, key)) for _, _, s in columns))
    return table


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
        cells = "".join(f'<td class="num">{escape(fmt(_row(s, key)))}</td>' for s in summaries)
        body.append(f"<tr><th>{escape(key)}</th>{cells}</tr>")
    cells = "".join(f"<td>{escape(modes_text(s))}</td>" for s in summaries)
    body.append(f"<tr><th>answer modes</th>{cells}</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _html_case(r: CaseResult) -> str:
    parts = [f'<div class="case"><div class="meta">{escape(r.id)} · {escape(r.mode)} · '
             f"{'answerable' if r.answerable else 'unanswerable'} · answer: {escape(r.answer_mode or 'none')}"
             f" · {fmt(r.latency_ms)} ms</div>"]
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
    """A self-contained HTML page: summary, per-language tables, problems, failing cases."""
    modes = list(report.summary)
    parts = [
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">",
        f"<title>Khabar evaluation: {escape(report.suite.name)}</title><style>{_CSS}</style></head><body>",
        f"<h1>Khabar evaluation: {escape(report.suite.name)}</h1>",
        f'<p class="meta">{report.suite.cases} cases ({escape(report.suite.format)}), modes '
        f"{escape(', '.join(modes))}, k={report.config.k}, not-found threshold "
        f"{report.config.not_found_threshold}, lexical weight {report.config.max_lexical_weight}, "
        f"collection {escape(report.config.collection)}, started {escape(report.started_at)}, setup "
        f"{report.setup_seconds:.1f} s</p>",
        "<h2>Summary</h2>",
        _html_table(["metric", *modes], list(report.summary.values()), TABLE_KEYS),
        "<h2>Per language</h2>",
    ]
    for lang, by_mode in report.by_language.items():
        parts.append(f"<h3>{escape(lang)}</h3>")
        parts.append(_html_table(["metric", *by_mode], list(by_mode.values()), STABLE_KEYS))
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


def markdown_summary(report: EvalReport) -> str:
    """The summary as a Markdown table (modes as columns), e.g. for the README."""
    modes = list(report.summary)
    lines = ["| metric | " + " | ".join(modes) + " |", "|---|" + "---:|" * len(modes)]
    for key in TABLE_KEYS:
        lines.append(f"| {key} | " + " | ".join(fmt(_row(s, key)) for s in report.summary.values()) + " |")
    lines.append("| answer modes | " + " | ".join(modes_text(s) for s in report.summary.values()) + " |")
    return "\n".join(lines)


def to_markdown(report: EvalReport) -> str:
    """The report as Markdown: summary, per-language tables and the failing cases (questions quoted)."""
    out = [f"# Khabar evaluation: {report.suite.name}", "",
           f"{report.suite.cases} cases, k={report.config.k}, started {report.started_at}", "",
           markdown_summary(report), ""]
    for lang, by_mode in report.by_language.items():
        out += [f"## {lang}", "", "| metric | " + " | ".join(by_mode) + " |",
                "|---|" + "---:|" * len(by_mode)]
        out += [f"| {key} | " + " | ".join(fmt(_row(s, key)) for s in by_mode.values()) + " |"
                for key in STABLE_KEYS]
        out.append("")
    failed = failing(report)
    out += [f"## Failing cases ({len(failed)})", ""]
    for r in failed:
        out += [f"### {r.id} ({r.mode})", "", f"> {r.question}", "", f"{r.answer or r.error}", "",
                *(f"- {reason}" for reason in r.reasons), ""]
    return "\n".join(out)
