#!/usr/bin/env bash
# The set-up both README commands share: a .venv at the repository root, torch installed first and pinned
# (a bare torch requirement would pull a multi-GB CUDA build), the project with pinned dependencies, and
# verified models. Quick when nothing changed. Usage: scripts/setup.sh [--test] [--llm]
set -euo pipefail
cd "$(dirname "$0")/.."

TORCH_VERSION=2.13.0
extras=""
llm=""
for arg in "$@"; do
  case "$arg" in
    --test) extras="[test]" ;;
    --llm) llm="--llm" ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

if [ -x .venv/bin/python ] && ! .venv/bin/python -m pip --version >/dev/null 2>&1; then
  echo "==> .venv is incomplete (an interrupted set-up?): recreating it"
  rm -rf .venv
fi
if [ ! -x .venv/bin/python ]; then
  echo "==> creating .venv"
  "${PYTHON:-python3}" -m venv .venv
fi
pip=(.venv/bin/python -m pip --disable-pip-version-check -q)

if ! .venv/bin/python -c "import torch, sys; sys.exit(torch.__version__.split('+')[0] != '$TORCH_VERSION')" 2>/dev/null; then
  echo "==> installing torch==$TORCH_VERSION (CPU)"
  "${pip[@]}" install "torch==$TORCH_VERSION"
fi

# Reinstall only when the dependency files or the chosen extras changed.
stamp=".venv/.khabar-deps"
want="$(cat pyproject.toml constraints.txt | sha256sum | cut -c1-32)$extras"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ] && ! { [ -z "$extras" ] && [ "$(cat "$stamp" 2>/dev/null)" = "${want}[test]" ]; }; then
  echo "==> installing khabar$extras and its pinned dependencies"
  "${pip[@]}" install -c constraints.txt -e ".$extras"
  echo "$want" > "$stamp"
fi

echo "==> models (fetched once, verified by sha256)"
.venv/bin/khabar fetch-models $llm
