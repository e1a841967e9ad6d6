"""The stage store: every damaged, foreign or mismatched entry is discarded, noted and
recomputed, never used; entries written by two processes at once stay whole."""

from __future__ import annotations

import io
import json
import multiprocessing
import pickle
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

from towerplan.io.cache import StageCache, describe

KEY = "a" * 32
OTHER = "b" * 32


def _matrix(rows: int = 4, columns: int = 6, seed: int = 1) -> sp.csr_matrix:
    rng = np.random.default_rng(seed)
    return sp.csr_matrix(rng.random((rows, columns)) > 0.5)


def _split(path: Path) -> tuple[dict[str, Any], bytes]:
    head, payload = path.read_bytes().split(b"\n", 1)
    return json.loads(head), payload


def _join(path: Path, header: dict[str, Any], payload: bytes) -> None:
    path.write_bytes(json.dumps(header).encode() + b"\n" + payload)


@pytest.fixture
def stored(tmp_path: Path) -> tuple[StageCache, Path]:
    cache = StageCache(tmp_path)
    cache.store("candidate_coverage", KEY, _matrix())
    return cache, cache.path("candidate_coverage", KEY)


def _refused(cache: StageCache, path: Path, words: str, **kwargs: Any) -> None:
    assert cache.load("candidate_coverage", KEY, **kwargs) == (False, None)
    assert not path.exists(), "a refused entry is removed"
    assert len(cache.notes) == 1 and words in cache.notes[0], cache.notes
    assert cache.notes[0].startswith(f"cache entry candidate_coverage/{KEY[:12]} discarded")


def test_a_valid_entry_is_read_back_with_its_description(stored: tuple[StageCache, Path],
                                                         ) -> None:
    cache, path = stored
    hit, value = cache.load("candidate_coverage", KEY,
                            expect={"shape": [4, 6], "dtype": np.dtype(bool).str})
    assert hit and (value != _matrix()).nnz == 0
    header, payload = _split(path)
    assert header["value"] == {"type": describe(_matrix())["type"], "shape": [4, 6],
                               "dtype": "|b1"}
    assert header["bytes"] == len(payload) and len(header["sha256"]) == 64
    assert cache.notes == []


@pytest.mark.parametrize(("damage", "words"), [
    (lambda b: b[:-7], "checksum mismatch"),                          # truncated payload
    (lambda b: b[: (len(b) + b.index(b"\n")) // 2], "checksum mismatch"),  # payload halved
    (lambda b: b[:-40] + bytes([b[-40] ^ 0xFF]) + b[-39:], "checksum mismatch"),  # bit flip
    (lambda b: b + b"\x00" * 16, "checksum mismatch"),                # appended bytes
    (lambda b: b"", "unreadable"),                                    # emptied
    (lambda b: b[:20], "unreadable"),                                 # cut inside the header
    (lambda b: b"\xff\xfe" + b[2:], "unreadable"),                    # header bytes flipped
    (lambda b: b"[1, 2]\n" + b.split(b"\n", 1)[1], "unknown format"),  # header not an object
])
def test_damaged_entries_are_discarded(stored: tuple[StageCache, Path], damage: Any,
                                       words: str) -> None:
    cache, path = stored
    path.write_bytes(damage(path.read_bytes()))
    _refused(cache, path, words)


def test_a_zip_file_in_place_of_an_entry_is_discarded(stored: tuple[StageCache, Path]) -> None:
    cache, path = stored  # what a numpy .npz (and its truncation, BadZipFile) looks like
    buffer = io.BytesIO()
    np.savez(buffer, data=np.ones(3))
    path.write_bytes(buffer.getvalue()[:50])
    _refused(cache, path, "unreadable")
    assert not zipfile.is_zipfile(io.BytesIO(buffer.getvalue()[:50]))


def test_an_entry_of_the_older_format_is_discarded(stored: tuple[StageCache, Path]) -> None:
    cache, path = stored
    header, payload = _split(path)
    _join(path, {**header, "format": 1}, payload)
    _refused(cache, path, "unknown format")


def test_another_keys_entry_is_discarded(stored: tuple[StageCache, Path]) -> None:
    cache, path = stored
    cache.store("candidate_coverage", OTHER, _matrix(seed=2))
    path.write_bytes(cache.path("candidate_coverage", OTHER).read_bytes())
    _refused(cache, path, "it holds another entry")


def test_another_stages_entry_is_discarded(stored: tuple[StageCache, Path]) -> None:
    cache, path = stored
    cache.store("selection", KEY, {"chosen": [1, 2]})
    path.write_bytes(cache.path("selection", KEY).read_bytes())
    _refused(cache, path, "it holds another entry")


def test_another_keys_payload_under_this_keys_header_fails_the_checksum(
        stored: tuple[StageCache, Path]) -> None:
    cache, path = stored
    cache.store("candidate_coverage", OTHER, _matrix(seed=2))
    other_header, other_payload = _split(cache.path("candidate_coverage", OTHER))
    _join(path, {**other_header, "key": KEY}, other_payload)  # key edited, checksum kept
    _refused(cache, path, "checksum mismatch")


def test_a_header_that_misdescribes_its_value_is_discarded(stored: tuple[StageCache, Path],
                                                           ) -> None:
    cache, path = stored
    header, payload = _split(path)
    header["value"] = {**header["value"], "shape": [64, 6]}
    _join(path, header, payload)
    _refused(cache, path, "where its header says")


class _Gone:
    pass


def test_a_payload_that_no_longer_unpickles_is_discarded(tmp_path: Path) -> None:
    cache = StageCache(tmp_path)
    cache.store("candidate_coverage", KEY, _matrix())
    path = cache.path("candidate_coverage", KEY)
    header, _ = _split(path)
    # a pickle of a class that no longer exists (code changed since), checksum recomputed
    payload = pickle.dumps(_Gone(), protocol=pickle.HIGHEST_PROTOCOL).replace(b"_Gone", b"_Lost")
    from towerplan.io.cache import _checksum

    _join(path, {**header, "bytes": len(payload),
                 "sha256": _checksum("candidate_coverage", KEY, payload)}, payload)
    _refused(cache, path, "cannot be read back")


@pytest.mark.parametrize(("value", "words"), [
    (_matrix(rows=3), "4x6"),                                   # a batch of other sites
    (_matrix(columns=5), "4x6"),                                # other demand units
    (sp.csr_matrix(np.ones((4, 6), np.float32)), "|b1"),       # RSRP where coverage is read
    (np.ones((4, 6), bool), "csr_matrix"),                      # dense, not sparse
    ({"rows": 4}, "csr_matrix"),                                # not a matrix at all
])
def test_a_valid_entry_of_the_wrong_matrix_is_discarded(tmp_path: Path, value: Any,
                                                        words: str) -> None:
    cache = StageCache(tmp_path)
    cache.store("candidate_coverage", KEY, value)
    expect = {"type": describe(_matrix())["type"], "shape": [4, 6], "dtype": "|b1"}
    _refused(cache, cache.path("candidate_coverage", KEY), words, expect=expect)


def test_a_discarded_entry_does_not_remove_a_newer_one(stored: tuple[StageCache, Path]) -> None:
    cache, path = stored
    old_inode = path.stat().st_ino
    cache.store("candidate_coverage", KEY, _matrix())  # another run replaced it meanwhile
    assert path.stat().st_ino != old_inode
    cache.discard("candidate_coverage", KEY, "test", old_inode)
    assert path.exists() and cache.load("candidate_coverage", KEY)[0]


# -- large arrays beside the pickle -------------------------------------------------------


def _big() -> dict[str, Any]:
    rng = np.random.default_rng(7)
    grid = rng.normal(-100, 10, (300, 257)).astype(np.float32)   # 308 KB: beside
    return {"grid": grid, "server": np.asfortranarray(rng.integers(-1, 9, (260, 300), np.int32)),
            "small": np.arange(10.0), "matrix": sp.csr_matrix(grid > -95),
            "table": {"name": ["a", "b"]}}


@pytest.fixture
def big_entry(tmp_path: Path) -> tuple[StageCache, Path]:
    cache = StageCache(tmp_path)
    cache.store("existing_coverage", KEY, _big())
    return cache, cache.path("existing_coverage", KEY)


def test_large_arrays_are_stored_aligned_beside_the_pickle_and_read_back_writable(
        big_entry: tuple[StageCache, Path]) -> None:
    cache, path = big_entry
    data = path.read_bytes()
    line = data.index(b"\n") + 1
    header = json.loads(data[:line])
    assert line % 64 == 0
    sizes = sorted(n for _, n in header["buffers"])
    # the float32 grid, the int32 server grid and the matrix's indices (nnz of 4 bytes)
    want = _big()
    assert sizes == sorted([want["grid"].nbytes, want["server"].nbytes,
                            want["matrix"].indices.nbytes])
    assert all(at % 64 == 0 for at, _ in header["buffers"])
    # the arrays are not inside the pickle (it holds the matrix's 25 KB of booleans)
    assert header["pickle_bytes"] < 0.1 * header["bytes"]
    assert header["bytes"] == len(data) - line
    hit, value = cache.load("existing_coverage", KEY)
    assert hit
    for name in ("grid", "server", "small"):
        np.testing.assert_array_equal(value[name], want[name])
        assert value[name].dtype == want[name].dtype and value[name].flags.writeable
    assert value["server"].flags.f_contiguous
    assert (value["matrix"] != want["matrix"]).nnz == 0 and value["table"] == want["table"]
    value["grid"][0, 0] = 1.0  # a read-back value is the caller's: the entry is unchanged
    assert cache.load("existing_coverage", KEY)[1]["grid"][0, 0] == want["grid"][0, 0]


@pytest.mark.parametrize(("damage", "words"), [
    (lambda b: b[:-64], "checksum mismatch"),                     # last array cut short
    (lambda b: b[:-5000] + bytes([b[-5000] ^ 1]) + b[-4999:], "checksum mismatch"),  # one bit
])
def test_damage_inside_an_array_beside_the_pickle_is_caught(big_entry: tuple[StageCache, Path],
                                                            damage: Any, words: str) -> None:
    cache, path = big_entry
    path.write_bytes(damage(path.read_bytes()))
    assert cache.load("existing_coverage", KEY) == (False, None)
    assert not path.exists() and words in cache.notes[0]


@pytest.mark.parametrize("layout", [
    {"buffers": [[64, 10**9]]},                 # an array beyond the body
    {"buffers": [["x", 5]]},                    # not a number
    {"pickle_bytes": None},                     # no pickle length
])
def test_a_header_whose_layout_does_not_fit_its_body_is_discarded(
        big_entry: tuple[StageCache, Path], layout: dict[str, Any]) -> None:
    cache, path = big_entry
    header, payload = _split(path)
    _join(path, {**header, **layout}, payload)
    assert cache.load("existing_coverage", KEY) == (False, None)
    assert "checksum mismatch" in cache.notes[0]


def test_the_checksum_of_a_body_of_many_pieces_is_the_same_hashed_in_threads_or_not(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from towerplan.io import cache

    body = np.random.default_rng(3).bytes(5000)
    whole = cache._checksum("s", KEY, body[:1000], body[1000:])
    monkeypatch.setattr(cache, "_PIECE_BYTES", 300)  # 17 pieces, hashed two at a time
    assert cache._checksum("s", KEY, body[:1000], body[1000:]) != whole  # pieces count
    assert cache._checksum("s", KEY, body[:1000], body[1000:]) == \
        cache._checksum("s", KEY, bytearray(body[:1000]), memoryview(body[1000:]))
    assert cache._checksum("s", KEY, body[:1001], body[1001:]) != \
        cache._checksum("s", KEY, body[:1000], body[1000:])  # where the arrays start counts


# -- two processes ------------------------------------------------------------------------


def _hammer(root: str, seed: int, rounds: int, queue: Any) -> None:
    """Store and read the same entry *rounds* times; report what was read."""
    cache = StageCache(Path(root))
    values = {1: _matrix(64, 900, seed=1), 2: _matrix(64, 900, seed=2)}
    seen = []
    for _ in range(rounds):
        cache.store("candidate_coverage", KEY, values[seed])
        hit, value = cache.load("candidate_coverage", KEY)
        if hit:
            same = [s for s, v in values.items() if (value != v).nnz == 0]
            seen.append(same[0] if same else -1)
        else:
            seen.append(0)
    queue.put((seed, seen, list(cache.notes)))


def test_two_processes_writing_and_reading_one_entry_keep_it_whole(tmp_path: Path) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    workers = [context.Process(target=_hammer, args=(str(tmp_path), seed, 60, queue))
               for seed in (1, 2)]
    for worker in workers:
        worker.start()
    results = [queue.get(timeout=300) for _ in workers]
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0
    for _seed, seen, notes in results:
        assert notes == [], notes            # never a torn or half-written entry
        assert len(seen) == 60 and set(seen) <= {1, 2}  # always one run's whole value
    cache = StageCache(tmp_path)
    hit, value = cache.load("candidate_coverage", KEY)
    assert hit and value.shape == (64, 900)  # the entry left behind is whole
    assert [p.name for p in (tmp_path / "candidate_coverage").iterdir()] == [f"{KEY}.pkl"]
    assert pickle.loads(pickle.dumps(value)).nnz == value.nnz


@pytest.mark.parametrize("value", ["inf", "-inf", "nan", "lots"])
def test_an_unreadable_cache_size_limit_falls_back_to_the_default(monkeypatch, value):
    from towerplan.io import cache

    monkeypatch.setenv("TOWERPLAN_CACHE_MAX_GB", value)
    assert cache._max_bytes() == cache.DEFAULT_MAX_BYTES
    monkeypatch.setenv("TOWERPLAN_CACHE_MAX_GB", "0.5")
    assert cache._max_bytes() == 512 * 1024**2


def test_store_prunes_the_least_recently_used_beyond_the_limit(tmp_path):
    import os

    store = StageCache(tmp_path, max_bytes=3_500)
    for i in range(6):
        store.store("s", f"k{i}", b"x" * 900)
        path = store.path("s", f"k{i}")
        os.utime(path, (1_000_000 + i, 1_000_000 + i))  # k0 is the oldest
    left = sorted(p.stem for p in (tmp_path / "s").glob("*.pkl"))
    sizes = sum(p.stat().st_size for p in (tmp_path / "s").glob("*.pkl"))
    assert sizes <= 3_500
    assert left == [f"k{i}" for i in range(6 - len(left), 6)]  # the newest are kept
    assert 2 <= len(left) <= 3


def test_store_scans_the_folder_once_while_under_the_limit(tmp_path, monkeypatch):
    import pathlib

    scans = []
    glob = pathlib.Path.glob

    def counted(self, pattern, *args, **kwargs):
        scans.append(pattern)
        return glob(self, pattern, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "glob", counted)
    store = StageCache(tmp_path, max_bytes=10**9)
    for i in range(200):
        store.store("coverage", f"batch{i}", list(range(50)))
    assert scans == ["*/*.pkl"]  # a thousand-batch run pays one scan, not one per batch
