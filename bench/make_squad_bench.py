"""Build a SQuAD v2.0-format benchmark file from the default article, deterministically. It is SYNTHETIC.

    .venv/bin/python bench/make_squad_bench.py [--out artifacts/squad_article_synthetic.json] [--meetings 160]
    .venv/bin/khabar eval artifacts/squad_article_synthetic.json --report artifacts/squad.html --json ...

There is no internet access for public Arabic QA sets (XQuAD, ARCD, MLQA) here, so this file stands in for
one to measure throughput and exercise the SQuAD path at a realistic size. It has two parts:

1. The article: each of its paragraphs is a context; the shipped suite's questions (those without history)
   are attached to the paragraph holding their evidence, with the required phrase that occurs literally in
   it as the answer span; its unanswerable questions are attached as ``is_impossible``.
2. Meeting reports made from templates over the article's vocabulary (people, cities, topics, weekdays):
   one short Arabic paragraph per (pair of people, city), with random-but-seeded durations and numbers of
   officials, and template questions in Arabic and English. Every fourth report also gets an unanswerable
   question about the same pair in a city where they never met, the kind of near miss SQuAD v2 uses.

Part 2 is not natural text and its contexts resemble each other by construction, so retrieval numbers on
it say more about telling near-duplicates apart than about real news. Use it for throughput and for
relative comparisons, not as a quality claim. The output is generated, so it goes to artifacts/ (ignored
by git) rather than into the repository.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
from pathlib import Path

from assistant.evaluation.suites import load_suite
from assistant.ingest.loading import load_article
from assistant.ingest.splitting import paragraphs
from assistant.settings import PROJECT_ROOT
from assistant.textnorm import fold_for_match

ARTICLE = PROJECT_ROOT / "data" / "articles" / "assad-putin-sochi.ar.txt"
SUITE = PROJECT_ROOT / "data" / "suites" / "article.jsonl"

PEOPLE = [("بوتين", "Putin"), ("الأسد", "Assad"), ("لافروف", "Lavrov"), ("ظريف", "Zarif"),
          ("أردوغان", "Erdogan"), ("دي ميستورا", "de Mistura"), ("بيسكوف", "Peskov"), ("المعلم", "Muallem"),
          ("شويغو", "Shoigu"), ("روحاني", "Rouhani")]
CITIES = [("سوتشي", "Sochi"), ("موسكو", "Moscow"), ("دمشق", "Damascus"), ("أستانا", "Astana"),
          ("طهران", "Tehran"), ("أنقرة", "Ankara"), ("جنيف", "Geneva"), ("بيروت", "Beirut"),
          ("القاهرة", "Cairo"), ("عمان", "Amman")]
TOPICS = [("تسوية الأزمة السورية", "the settlement of the Syrian crisis"),
          ("صفقة صواريخ اس 300", "the S-300 missile deal"), ("اتفاق خفض التصعيد", "the de-escalation deal"),
          ("عودة اللاجئين", "the return of refugees"), ("إعادة الإعمار", "reconstruction"),
          ("الوجود العسكري في البحر المتوسط", "the military presence in the Mediterranean"),
          ("ملف المعتقلين", "the detainees file"), ("التبادل التجاري", "trade")]
DAYS = [("الأحد", "Sunday"), ("الاثنين", "Monday"), ("الثلاثاء", "Tuesday"), ("الأربعاء", "Wednesday"),
        ("الخميس", "Thursday"), ("الجمعة", "Friday"), ("السبت", "Saturday")]


def _qa(qid: str, question: str, context: str, answer: str | None) -> dict:
    if answer is None:
        return {"id": qid, "question": question, "answers": [], "is_impossible": True}
    start = context.find(answer)
    assert start >= 0, (qid, answer)
    return {"id": qid, "question": question, "answers": [{"text": answer, "answer_start": start}],
            "is_impossible": False}


def article_part() -> list[dict]:
    """The article's paragraphs as contexts, with the shipped suite's questions attached."""
    article = load_article(ARTICLE)
    contexts = [article.text[s.start:s.end] for s in paragraphs(article.text)]
    qas: list[list[dict]] = [[] for _ in contexts]
    for case in load_suite(SUITE).cases:
        if case.history:
            continue  # SQuAD has no conversations
        if not case.answerable:
            qas[0].append(_qa(case.id, case.question, contexts[0], None))
            continue
        for i, context in enumerate(contexts):
            if not any(fold_for_match(e) in fold_for_match(context) for e in case.evidence):
                continue
            literal = [alt for group in case.must_include for alt in group if alt in context]
            if literal:
                qas[i].append(_qa(case.id, case.question, context, literal[0]))
                break
    return [{"context": c, "qas": q} for c, q in zip(contexts, qas, strict=True)]


def meetings_part(count: int, seed: int) -> list[dict]:
    """Template meeting reports, one per (pair, city), with their questions."""
    rng = random.Random(seed)
    combos = [(a, b, city) for a, b in itertools.combinations(PEOPLE, 2) for city in CITIES]
    chosen = rng.sample(combos, min(count, len(combos)))
    taken = set(chosen)
    out = []
    for i, (a, b, city) in enumerate(chosen):
        topic, day = rng.choice(TOPICS), rng.choice(DAYS)
        minutes, officials = rng.randrange(20, 181, 5), rng.randrange(3, 41)
        context = (f"{city[0]} - التقى {a[0]} مع {b[0]} يوم {day[0]} في {city[0]} لبحث {topic[0]}، "
                   f"واستمر الاجتماع {minutes} دقيقة بحضور {officials} مسؤولا من الجانبين.")
        arabic = [
            (f"كم دقيقة استمر اجتماع {a[0]} و{b[0]} في {city[0]}؟", str(minutes)),
            (f"كم مسؤولا حضر لقاء {a[0]} و{b[0]} في {city[0]}؟", str(officials)),
            (f"ما الموضوع الذي بحثه {a[0]} و{b[0]} في {city[0]}؟", topic[0]),
            (f"في أي يوم التقى {a[0]} و{b[0]} في {city[0]}؟", day[0]),
        ]
        english = [
            (f"How many minutes did the meeting between {a[1]} and {b[1]} in {city[1]} last?", str(minutes)),
            (f"What did {a[1]} and {b[1]} discuss in {city[1]}?", topic[0]),
            (f"On which day did {a[1]} and {b[1]} meet in {city[1]}?", day[0]),
            (f"How many officials attended the talks of {a[1]} and {b[1]} in {city[1]}?", str(officials)),
        ]
        question, answer = arabic[i % 4]
        qas = [_qa(f"syn-{i:04d}-ar", question, context, answer)]
        if i % 2 == 0:
            question, answer = english[(i // 2) % 4]
            qas.append(_qa(f"syn-{i:04d}-en", question, context, answer))
        if i % 4 == 0:
            elsewhere = next(c for c in CITIES if (a, b, c) not in taken)
            qas.append(_qa(f"syn-{i:04d}-na", f"كم دقيقة استمر اجتماع {a[0]} و{b[0]} في {elsewhere[0]}؟",
                           context, None))
        out.append({"context": context, "qas": qas})
    return out


def build(meetings: int = 160, seed: int = 7) -> dict:
    """The whole SQuAD v2.0 document."""
    return {"version": "v2.0-synthetic-khabar",
            "data": [{"title": "assad-putin-sochi", "paragraphs": article_part()},
                     {"title": "synthetic-meetings", "paragraphs": meetings_part(meetings, seed)}]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--out", type=Path,
                        default=PROJECT_ROOT / "artifacts" / "squad_article_synthetic.json")
    parser.add_argument("--meetings", type=int, default=160, help="Template paragraphs (at most 450).")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    document = build(args.meetings, args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    paragraphs_ = [p for d in document["data"] for p in d["paragraphs"]]
    questions = [q for p in paragraphs_ for q in p["qas"]]
    impossible = sum(q["is_impossible"] for q in questions)
    print(f"{args.out}: {len(paragraphs_)} paragraphs, {len(questions)} questions "
          f"({impossible} unanswerable)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
