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
# Two pytest-xdist workers run everything but the browser tests, one test file each at a time, slowest files
# first; then the browser tests run alone. Much of the suite waits on subprocesses, servers and the browser, so
# one process leaves the second core idle. The browser tests stay alone: beside another worker, a click twice
# sent no event at all (docs/testing.md, "Fifth session"), which was never seen with the browser file alone.
# KHABAR_TEST_WORKERS=0 runs everything in one process; arguments (a file, -k ...) run one pytest as given.
echo "==> pytest"
# One cache of the real model's document vectors for both pytest runs (tests/conftest.py, embedding_cache).
cache_dir="$(mktemp -d)"
trap 'rm -rf "$cache_dir"' EXIT
export KHABAR_EMBEDDING_CACHE="${KHABAR_EMBEDDING_CACHE:-$cache_dir/embedding-cache.sqlite}"
workers="${KHABAR_TEST_WORKERS:-2}"
if [ "$#" -gt 0 ] || [ "$workers" = "0" ]; then
  .venv/bin/python -m pytest "$@"
else
  .venv/bin/python -m pytest -n "$workers" --dist loadfile --no-loadscope-reorder -m "not browser"
  echo "==> pytest: the browser tests, alone"
  .venv/bin/python -m pytest -m browser
fi

# The shipped suite (both halves), gated just below the numbers the project reaches (docs/evaluation.md),
# so that a regression in retrieval or answering fails the build.
echo "==> khabar eval (gated)"
mkdir -p artifacts
.venv/bin/khabar eval data/suites/article.jsonl --mode extractive \
  --json artifacts/eval.json --report artifacts/eval.html \
  --min hit@1=0.835 --min hit@5=0.98 --min mrr=0.895 --min must_include_accuracy=0.92 \
  --min answering_words_accuracy=0.80 \
  --min citation_precision=0.91 --min answer_contains_reference=0.83 --min refusal_precision=0.95 \
  --min refusal_recall=0.95 --min language_match=0.98 --min topic_change_as_alone=0.95
