# `make run` and `make test` are the README's two commands; each does all set-up on a fresh machine.
.PHONY: setup run test lint bench eval

setup:
	bash scripts/setup.sh

run:
	bash scripts/setup.sh
	.venv/bin/python app.py

test:
	bash scripts/setup.sh --test --llm
	bash scripts/test.sh

lint:
	.venv/bin/ruff check .

eval:
	.venv/bin/khabar eval data/suites/article.jsonl --json artifacts/eval.json --report artifacts/eval.html
