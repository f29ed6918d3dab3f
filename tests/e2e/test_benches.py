"""The benchmarks in bench/ still run: each script starts (its imports: a bench file named
like a standard library module once hid it from every script), and the two latency
benchmarks of issue 17 run end to end at a tiny size on SQLite. Their figures are
not checked here (speed is the benchmarks' business), only that they come out."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench(script: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(BENCH / script), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_every_bench_module_imports_with_its_folder_first_on_the_path() -> None:
    """As when a script is run: bench/ comes first on sys.path, in one process for all."""
    names = sorted(p.stem for p in BENCH.glob("*.py"))
    code = f"import sys; sys.path.insert(0, {str(BENCH)!r}); " + "; ".join(f"import {n}" for n in names)
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-3000:]


def figures(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_latency_bench_times_every_matching_listing_idle_and_during_an_upload() -> None:
    result = figures(
        bench(
            "latency.py",
            # Customers enough that no two matching listings are likely to be of one
            # customer (the second would open no lead, so no email would name it, and
            # the bench would wait out its grace for that email).
            *("--customers", "20000", "--seconds", "1", "--grace", "30", "--rate", "100"),
            *("--during-upload", "--upload-customers", "2000", "--json"),
        )
    )
    for phase in ("idle", "during"):
        webhook, email = result[phase]["webhook"], result[phase]["email"]
        assert webhook["expected"] > 0
        assert webhook["missing"] == 0  # every matching listing's webhook arrived and was timed
        assert email["n"] > 0
        assert webhook["p50_ms"] <= webhook["p99_ms"] <= webhook["max_ms"]
        assert result[phase]["jobs"]["webhooks.deliver"]["jobs"] >= webhook["expected"]
    assert result["upload"]["processed_s"] > 0


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_mixed_bench_reads_each_kind_idle_and_during_an_upload() -> None:
    result = figures(
        bench(
            "mixed.py",
            *("--upload-customers", "2000", "--customers", "500", "--vehicles", "200", "--kapture", "5"),
            *("--seconds", "1", "--processes", "1", "--json"),
        )
    )
    for phase in ("idle", "during"):
        for kind, read in result["1"][phase].items():
            assert read["requests"] > 0, kind
            assert read["non_2xx"] == read["socket_errors"] == 0, kind
    assert result["1"]["upload"]["processed_s"] > 0
