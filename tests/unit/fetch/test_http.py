"""Downloads: retries and backoff, Retry-After, resume with Range, size and checksum checks."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path

import pytest

from tests.unit.fetch.factories import FakeServer, Reply
from towerplan.errors import InputFileError, TowerplanError
from towerplan.fetch.http import (
    Cache,
    DownloadError,
    MissingFromCacheError,
    NotPublishedError,
    RetryPolicy,
    _retry_after_s,
    download,
)
from towerplan.scenario import Sources

BODY = bytes(range(256)) * 400  # 102,400 bytes, every byte value


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_429_then_200_honours_retry_after(server: FakeServer, tmp_path: Path,
                                          policy: RetryPolicy, slept: list[float]) -> None:
    server.add("/f", Reply(429, b"slow down", {"Retry-After": "7"}), Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert got.attempts == 2 and len(server.hits("/f")) == 2
    assert slept == [7.0]
    assert (tmp_path / "f.bin").read_bytes() == BODY
    assert got.sha256 == _sha(BODY) and got.size_bytes == len(BODY)


def test_504_twice_then_200_backs_off_exponentially(server: FakeServer, tmp_path: Path,
                                                    policy: RetryPolicy,
                                                    slept: list[float]) -> None:
    server.add("/f", Reply(504), Reply(503), Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert got.attempts == 3
    assert slept == pytest.approx([0.01, 0.02])


def test_retry_after_is_capped_by_max_delay(server: FakeServer, tmp_path: Path,
                                            slept: list[float]) -> None:
    policy = RetryPolicy(max_attempts=2, backoff_s=0.01, max_delay_s=0.5, sleep=slept.append)
    server.add("/f", Reply(429, headers={"Retry-After": "3600"}), Reply(body=BODY))
    download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert slept == [0.5]


def test_dropped_connection_is_retried(server: FakeServer, tmp_path: Path,
                                       policy: RetryPolicy) -> None:
    server.add("/f", Reply(drop=True), Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert got.attempts == 2 and (tmp_path / "f.bin").read_bytes() == BODY


def test_refused_connection_fails_after_max_attempts(tmp_path: Path, policy: RetryPolicy,
                                                     slept: list[float]) -> None:
    server = FakeServer()
    url = f"{server.url}/f"
    server.close()  # nothing listens on the port any more
    with pytest.raises(DownloadError, match="failed after 4 attempts: connection failed"):
        download(url, tmp_path / "f.bin", policy=policy)
    assert len(slept) == 3
    assert not (tmp_path / "f.bin").exists()


def test_persistent_5xx_gives_one_clear_error(server: FakeServer, tmp_path: Path,
                                              policy: RetryPolicy) -> None:
    server.add("/f", Reply(502))
    with pytest.raises(DownloadError) as info:
        download(f"{server.url}/f", tmp_path / "f.bin", policy=policy, label="tile X")
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith("tile X: download from") and "after 4 attempts: HTTP 502" in message
    assert isinstance(info.value, TowerplanError) and isinstance(info.value, OSError)
    assert len(server.hits("/f")) == 4


def test_404_is_not_retried(server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    with pytest.raises(NotPublishedError, match="HTTP 404") as info:
        download(f"{server.url}/missing", tmp_path / "m.bin", policy=policy)
    assert info.value.status == 404 and len(server.hits("/missing")) == 1


def test_other_4xx_is_a_clear_error_without_retry(server: FakeServer, tmp_path: Path,
                                                  policy: RetryPolicy) -> None:
    server.add("/bad", Reply(400, b"bad query"))
    with pytest.raises(DownloadError, match="answered HTTP 400"):
        download(f"{server.url}/bad", tmp_path / "b.bin", policy=policy)
    assert len(server.hits("/bad")) == 1


def test_truncated_body_resumes_with_range(server: FakeServer, tmp_path: Path,
                                           policy: RetryPolicy) -> None:
    server.add("/f", Reply(body=BODY, truncate_at=30_000), Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    first, second = server.hits("/f")
    assert "Range" not in first.headers
    assert second.headers["Range"] == "bytes=30000-"
    assert got.attempts == 2 and got.sha256 == _sha(BODY)
    assert not (tmp_path / "f.bin.part").exists()


def test_always_truncated_download_fails_clearly_and_keeps_the_part(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    server.add("/f", Reply(body=BODY, truncate_at=1000, ranges=False))
    with pytest.raises(DownloadError,
                       match=r"connection closed after 1,000 of 102,400 bytes"):
        download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert not (tmp_path / "f.bin").exists()
    assert (tmp_path / "f.bin.part").stat().st_size == 1000  # kept for the next run to resume


def test_existing_part_file_is_resumed(server: FakeServer, tmp_path: Path,
                                       policy: RetryPolicy) -> None:
    (tmp_path / "f.bin.part").write_bytes(BODY[:65_536])
    server.add("/f", Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    (seen,) = server.hits("/f")
    assert seen.headers["Range"] == "bytes=65536-"
    assert got.attempts == 1 and (tmp_path / "f.bin").read_bytes() == BODY


def test_server_ignoring_range_rewrites_the_file(server: FakeServer, tmp_path: Path,
                                                 policy: RetryPolicy) -> None:
    (tmp_path / "f.bin.part").write_bytes(b"stale bytes of another version")
    server.add("/f", Reply(body=BODY, ranges=False))
    download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert (tmp_path / "f.bin").read_bytes() == BODY


def test_part_longer_than_the_file_starts_again(server: FakeServer, tmp_path: Path,
                                                policy: RetryPolicy) -> None:
    (tmp_path / "f.bin.part").write_bytes(b"x" * (len(BODY) + 10))
    server.add("/f", Reply(body=BODY))
    got = download(f"{server.url}/f", tmp_path / "f.bin", policy=policy)
    assert [h.headers.get("Range") for h in server.hits("/f")] == [f"bytes={len(BODY) + 10}-",
                                                                   None]
    assert got.sha256 == _sha(BODY)


def test_content_md5_is_checked(server: FakeServer, tmp_path: Path,
                                policy: RetryPolicy) -> None:
    good = base64.b64encode(hashlib.md5(BODY).digest()).decode()
    server.add("/ok", Reply(body=BODY, headers={"Content-MD5": good}))
    download(f"{server.url}/ok", tmp_path / "ok.bin", policy=policy)
    wrong = base64.b64encode(hashlib.md5(b"other").digest()).decode()
    server.add("/bad", Reply(body=BODY, headers={"Content-MD5": wrong}))
    with pytest.raises(DownloadError, match="md5 checksum mismatch"):
        download(f"{server.url}/bad", tmp_path / "bad.bin", policy=policy)
    assert len(server.hits("/bad")) == 4
    assert not (tmp_path / "bad.bin").exists() and not (tmp_path / "bad.bin.part").exists()


def test_repr_digest_sha256_is_checked(server: FakeServer, tmp_path: Path,
                                       policy: RetryPolicy) -> None:
    digest = base64.b64encode(hashlib.sha256(BODY).digest()).decode()
    server.add("/ok", Reply(body=BODY, headers={"Repr-Digest": f"sha-256=:{digest}:"}))
    download(f"{server.url}/ok", tmp_path / "ok.bin", policy=policy)
    server.add("/bad", Reply(body=BODY[:-1] + b"\x00",
                             headers={"Repr-Digest": f"sha-256=:{digest}:"}))
    with pytest.raises(DownloadError, match="sha256 checksum mismatch"):
        download(f"{server.url}/bad", tmp_path / "bad.bin", policy=policy)


def test_post_sends_the_form_body_and_is_not_resumed(server: FakeServer, tmp_path: Path,
                                                     policy: RetryPolicy) -> None:
    (tmp_path / "q.json.part").write_bytes(b"{half")
    server.add("/q", Reply(body=b'{"elements": []}'))
    download(f"{server.url}/q", tmp_path / "q.json", policy=policy, data=b"data=node%3B")
    (seen,) = server.hits("/q")
    assert seen.method == "POST" and seen.body == b"data=node%3B"
    assert "Range" not in seen.headers
    assert json.loads((tmp_path / "q.json").read_bytes()) == {"elements": []}


def test_progress_reports_bytes(server: FakeServer, tmp_path: Path,
                                policy: RetryPolicy) -> None:
    server.add("/f", Reply(body=BODY))
    calls: list[tuple[str, int, int | None]] = []
    download(f"{server.url}/f", tmp_path / "f.bin", policy=policy, label="f",
             progress=lambda *a: calls.append(a))
    assert calls[-1] == ("f", len(BODY), len(BODY))
    assert [c[1] for c in calls] == sorted(c[1] for c in calls)


def test_rejected_content_leaves_nothing(server: FakeServer, tmp_path: Path,
                                         policy: RetryPolicy) -> None:
    server.add("/f", Reply(body=BODY))

    def refuse(path: Path) -> None:
        assert path.read_bytes() == BODY
        raise DownloadError("f: not what was expected")

    with pytest.raises(DownloadError, match="not what was expected"):
        download(f"{server.url}/f", tmp_path / "f.bin", policy=policy, verify=refuse)
    assert list(tmp_path.iterdir()) == []


def test_non_http_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DownloadError, match="unsupported URL"):
        download("file:///etc/passwd", tmp_path / "x")


def test_retry_after_forms() -> None:
    assert _retry_after_s("120") == 120.0
    assert _retry_after_s("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert _retry_after_s("soon") is None


def test_policy_delays_double_and_are_capped() -> None:
    policy = RetryPolicy(backoff_s=0.5, max_delay_s=3.0)
    assert [policy.delay_s(k, None) for k in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)


# -------------------------------------------------------------------------------------- cache


def test_cache_reuses_a_verified_file_without_a_request(server: FakeServer, tmp_path: Path,
                                                        policy: RetryPolicy) -> None:
    server.add("/t.tif", Reply(body=BODY))
    cache = Cache(tmp_path / "c", policy=policy)
    first = cache.get(f"{server.url}/t.tif", "dem", "t.tif")
    second = cache.get(f"{server.url}/t.tif", "dem", "t.tif")
    assert first is not None and second is not None
    assert not first.from_cache and second.from_cache and second.attempts == 0
    assert second.sha256 == first.sha256 == _sha(BODY) and second.retrieved == first.retrieved
    assert len(server.hits("/t.tif")) == 1
    record = json.loads((tmp_path / "c" / "dem" / "t.tif.meta.json").read_text())
    assert record["url"] == f"{server.url}/t.tif" and record["size_bytes"] == len(BODY)
    refreshed = Cache(tmp_path / "c", policy=policy, refresh=True).get(
        f"{server.url}/t.tif", "dem", "t.tif")
    assert refreshed is not None and not refreshed.from_cache
    assert len(server.hits("/t.tif")) == 2


def test_cache_file_changed_behind_its_record_is_downloaded_again(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    server.add("/t.tif", Reply(body=BODY))
    cache = Cache(tmp_path / "c", policy=policy)
    cache.get(f"{server.url}/t.tif", "dem", "t.tif")
    (tmp_path / "c" / "dem" / "t.tif").write_bytes(b"cut")
    again = cache.get(f"{server.url}/t.tif", "dem", "t.tif")
    assert again is not None and not again.from_cache and again.size_bytes == len(BODY)


def test_cache_remembers_unpublished_files_for_offline_runs(
        server: FakeServer, tmp_path: Path, policy: RetryPolicy) -> None:
    cache = Cache(tmp_path / "c", policy=policy)
    assert cache.get(f"{server.url}/sea.tif", "dem", "sea.tif", absent_ok=True) is None
    assert cache.has("dem", "sea.tif")
    offline = Cache(tmp_path / "c", offline=True)
    assert offline.get(f"{server.url}/sea.tif", "dem", "sea.tif", absent_ok=True) is None
    assert len(server.hits("/sea.tif")) == 1
    with pytest.raises(NotPublishedError):
        cache.get(f"{server.url}/other.tif", "dem", "other.tif")


def test_offline_cache_miss_names_the_file(tmp_path: Path) -> None:
    offline = Cache(tmp_path / "c", offline=True)
    with pytest.raises(MissingFromCacheError, match="offline: tile A is not in the cache") as info:
        offline.get("http://127.0.0.1:9/a.tif", "dem", "a.tif", label="tile A")
    assert info.value.missing == ("tile A",)
    assert isinstance(info.value, InputFileError)


def test_the_public_services_are_unreachable_from_tests(tmp_path: Path,
                                                        asked_urls: list[str]) -> None:
    defaults = Sources()
    for url in (defaults.overpass_url, f"{defaults.dem_url}/x.tif",
                f"{defaults.worldcover_url}/x.tif"):
        with pytest.raises(AssertionError, match="a test tried to reach"):
            download(url, tmp_path / "x", policy=RetryPolicy(max_attempts=1))
    assert asked_urls == []
