"""bench/reports.py runs against a tiny seeded database and its bare SQL agrees with the portal."""

import importlib.util
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TINY = ["--partners", "2", "--agents", "60", "--documents", "20", "--required", "5"]


def load(name):
    spec = importlib.util.spec_from_file_location(f"bench_{name}", ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_db(tmp_path_factory):
    url = f"sqlite:///{tmp_path_factory.mktemp('reports') / 'bench.db'}"
    saved = {k: os.environ.get(k) for k in ("DATABASE_URL", "PORTAL_ENV")}
    os.environ.update(DATABASE_URL=url, PORTAL_ENV="testing")
    try:
        assert load("seed").main(TINY) == 0
        yield url
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_the_benchmark_runs_and_the_numbers_match(tiny_db, monkeypatch, capsys):
    """Whole table, page 1 and a partner's teams agree cell by cell with the bare SQL; the
    CSV export streams every obligation and reports its memory."""
    monkeypatch.setenv("DATABASE_URL", tiny_db)
    monkeypatch.setenv("PORTAL_ENV", "testing")
    assert load("reports").main(["--repeat", "1", "--partner"]) == 0
    out = capsys.readouterr().out
    assert out.count("numbers match") == 4
    assert "bare hand-written SQL" in out and "statements:" in out
    assert "CSV export" in out and "memory growth" in out
