#!/usr/bin/env bash
# The test run behind `make test` and CI: lint, then every test. The tests start the services they use
# themselves: a Chroma server (`chroma run` on a free loopback port), the app under uvicorn, and Debian's
# headless Chromium, which is installed here when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/chromium ]; then
  echo "==> installing Debian's chromium for the browser tests"
  sudo_cmd=""
  [ "$(id -u)" -eq 0 ] || sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium >/dev/null
fi

echo "==> ruff"
.venv/bin/ruff check .
# One process by default. KHABAR_TEST_WORKERS=2 runs two pytest-xdist workers, one test file each at a time,
# slowest files first (394 s against 549 s). Under extra load two browser tests once sent no event after a
# click (docs/testing.md, "Fifth session"); until that is understood, CI runs in one process.
echo "==> pytest"
workers="${KHABAR_TEST_WORKERS:-0}"
if [ "$workers" = "0" ]; then
  .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder "$@"
fi

# The shipped suite (both halves), gated just below the numbers the project reaches (docs/evaluation.md),
# so that a regression in retrieval or answering fails the build.
echo "==> khabar eval (gated)"
mkdir -p artifacts
.venv/bin/khabar eval data/suites/article.jsonl --mode extractive \
  --json artifacts/eval.json --report artifacts/eval.html \
  --min hit@1=0.82 --min hit@5=0.98 --min mrr=0.88 --min must_include_accuracy=0.85 \
  --min citation_precision=0.86 --min answer_contains_reference=0.78 --min refusal_precision=0.89 \
  --min refusal_recall=0.83 --min language_match=0.98 --min topic_change_as_alone=0.95
