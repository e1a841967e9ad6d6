"""Fixtures of the fetch tests: a local server, no internet, fast retries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.unit.fetch.factories import FakeServer, guard_network, serve
from towerplan.fetch.http import RetryPolicy


@pytest.fixture(autouse=True)
def asked_urls(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """Every URL requested in the test; anything but 127.0.0.1 fails the test."""
    return guard_network(monkeypatch, tmp_path / "user-cache")


@pytest.fixture
def server() -> Iterator[FakeServer]:
    """A scriptable HTTP server on 127.0.0.1."""
    yield from serve()


@pytest.fixture
def slept() -> list[float]:
    """Delays the retry policy of :func:`policy` asked to wait, seconds."""
    return []


@pytest.fixture
def policy(slept: list[float]) -> RetryPolicy:
    """Four attempts, recorded instead of waited backoff (0.01 s doubling), 10 s timeout."""
    return RetryPolicy(max_attempts=4, backoff_s=0.01, max_delay_s=30.0, timeout_s=10.0,
                       sleep=slept.append)
