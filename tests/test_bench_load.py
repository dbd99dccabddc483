"""bench/load.py's summaries: what a load or soak run reports about its errors and memory."""

from __future__ import annotations

import pytest

from tests.conftest import load_script


@pytest.fixture(scope="module")
def load():
    return load_script("bench/load.py", "bench_load")


def summary(errors: dict[str, int]) -> dict:
    return {"answered_per_s": 1.5, "errors": sum(errors.values()), "error_kinds": errors, "shed_503": 4,
            "p95_ms": 2500.0}


def test_soak_table_names_the_kinds_of_errors(load):
    samples = [(t, (500 + t // 60) * 2**20) for t in range(0, 601, 10)]
    row = load.soak_summary(samples, summary({"ask: 500": 2, "stream: 0 ReadTimeout": 1}), 25, 600)
    assert row["error_kinds"] == {"ask: 500": 2, "stream: 0 ReadTimeout": 1}
    assert row["first_minute_mb"] == 500 and row["last_minute_mb"] == 509
    assert row["slope_mb_per_min"] == pytest.approx(1.0, abs=0.05)
    line = load.soak_table(row).splitlines()[-1]
    assert "| 3 (ask: 500 × 2, stream: 0 ReadTimeout × 1) |" in line


def test_a_run_without_errors_shows_a_plain_zero(load):
    row = {**summary({}), "users": 5, "requests_per_s": 2.0, "p50_ms": 900.0, "p99_ms": 3000.0,
           "peak_rss_mb": 700}
    assert load.errors_cell(row) == "0"
    assert "| 4 | 0 | 700 MB |" in load.table([row])
