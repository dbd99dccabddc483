"""Latency and memory of the assistant on this machine: medians of several runs.

    .venv/bin/python bench/latency.py [--runs 7] [--mode extractive]

Prints a Markdown table (paste into bench/README.md): start-up time, per-question median and p90 of
`Assistant.ask` after warm-up, the share of time per stage, and peak resident memory.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

QUESTIONS = [
    "Why was the visit not announced in advance?",
    "لماذا لم يعلن عن الزيارة مسبقا؟",
    "Who are the guarantor states of the Astana talks?",
    "من هي الدول الضامنة لمحادثات أستانا؟",
    "What is the population of Sochi?",
    "كم عدد السفن الحربية التي تخطط موسكو لنشرها؟",
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--mode", default="extractive", choices=["extractive", "generative"])
    args = parser.parse_args()

    start = time.perf_counter()
    from assistant import Assistant, get_settings

    # Every run asks the same questions: the question-vector cache would time the cache, not the model.
    assistant = Assistant(get_settings().model_copy(update={"query_cache_size": 0}))
    startup = time.perf_counter() - start
    for q in QUESTIONS:  # warm-up: first calls pay for lazy initialisation
        assistant.ask(q, mode=args.mode)

    print(f"start-up (import, model load, index check): {startup:.1f} s\n")
    print("| question | median ms | p90 ms | stages (median ms) |")
    print("| --- | ---: | ---: | --- |")
    totals = []
    for q in QUESTIONS:
        runs = [assistant.ask(q, mode=args.mode) for _ in range(args.runs)]
        total = sorted(r.timings["total"] for r in runs)
        totals += total
        stages = {k: statistics.median(r.timings.get(k, 0.0) for r in runs)
                  for k in runs[0].timings if k != "total"}
        stage_text = ", ".join(f"{k} {v:.0f}" for k, v in stages.items())
        p90 = total[min(len(total) - 1, int(0.9 * len(total)))]
        print(f"| {q} | {statistics.median(total):.0f} | {p90:.0f} | {stage_text} |")
    print(f"\nall questions: median {statistics.median(totals):.0f} ms over {len(totals)} runs "
          f"({args.runs} per question, mode {args.mode})")
    print(f"peak resident memory: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
