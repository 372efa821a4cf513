"""The local runtime's log file (patron_local.logstore): appended a line at a time, rotated past its size into one
previous file, read by another process while it is written."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from patron_local.logstore import LogFile, LogStore, log_file, previous_file, read_log_file


def line(n: int, padding: int = 0) -> str:
    return json.dumps({"n": n, "pad": "x" * padding})


def test_the_file_sits_next_to_the_state_file(monkeypatch, tmp_path):
    monkeypatch.setenv("PATRON_LOCAL_STATE", str(tmp_path / "here" / "local.json"))
    assert log_file() == tmp_path / "here" / "logs.jsonl"


def test_past_its_size_the_file_becomes_the_previous_one_and_older_lines_go(tmp_path):
    path = tmp_path / "logs.jsonl"
    file = LogFile(path, max_bytes=100)
    for n in range(20):
        file.append(line(n, padding=10))  # 32 bytes a line: 3 a file
    file.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["logs.jsonl", "logs.jsonl.1"]
    assert path.stat().st_size <= 100 and previous_file(path).stat().st_size <= 100
    assert [d["n"] for d in read_log_file(path)] == [15, 16, 17, 18, 19]


@settings(max_examples=50, deadline=None)
@given(sizes=st.lists(st.integers(min_value=0, max_value=120), max_size=40), max_bytes=st.integers(20, 400))
def test_reading_gives_the_newest_lines_in_order_and_each_file_stays_bounded(sizes, max_bytes):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "logs.jsonl"
        file = LogFile(path, max_bytes=max_bytes)
        for n, size in enumerate(sizes):
            file.append(line(n, padding=size))
            for kept in (path, previous_file(path)):
                # A line longer than the bound is a file of its own, never split.
                assert not kept.exists() or kept.stat().st_size <= max_bytes or kept.read_bytes().count(b"\n") == 1
        file.close()
        read = [d["n"] for d in read_log_file(path)]
        assert read == list(range(len(sizes) - len(read), len(sizes)))  # a suffix of what was written, in order
        if sizes:
            assert read[-1] == len(sizes) - 1


def test_a_line_still_being_written_is_skipped_until_it_ends(tmp_path):
    path = tmp_path / "logs.jsonl"
    path.write_bytes(b'{"n": 1}\n{"n": 2, "pa')
    assert [d["n"] for d in read_log_file(path)] == [1]
    with path.open("ab") as file:
        file.write(b'd": ""}\n')
    assert [d["n"] for d in read_log_file(path)] == [1, 2]


def test_a_rotation_while_reading_is_not_read_twice(tmp_path):
    # The reader opens the current file, then the previous: a rotation in between makes them the same file.
    path = tmp_path / "logs.jsonl"
    path.write_text(line(1) + "\n")
    os.link(path, previous_file(path))
    assert [d["n"] for d in read_log_file(path)] == [1]


def test_no_file_is_no_documents(tmp_path):
    assert read_log_file(tmp_path / "logs.jsonl") == []


def test_the_store_keeps_documents_in_memory_and_in_the_file_while_told(tmp_path):
    path = tmp_path / "logs.jsonl"
    store = LogStore()
    store.append(line(0))
    store.keep_in(path)
    store.append(line(1))
    store.append("not json\nover two lines")
    store.append(json.dumps({"text": "\ud800"}, ensure_ascii=False))  # a lone surrogate, raw: written escaped
    store.keep_in(None)
    store.append(line(2))
    assert [d.get("n") for d in store.documents()] == [0, 1, None, None, 2]
    written = read_log_file(path)
    assert written == [{"n": 1, "pad": ""}, {"message": "not json\nover two lines"}, {"text": "\ud800"}]
    assert len(path.read_bytes().splitlines()) == 3


def test_a_file_that_cannot_be_written_does_not_fail_the_caller(tmp_path, capsys):
    (tmp_path / "logs.jsonl").mkdir()  # a folder where the file should be
    store = LogStore(file=tmp_path / "logs.jsonl")
    store.append(line(1))
    store.append(line(2))
    assert [d["n"] for d in store.documents()] == [1, 2]
    assert capsys.readouterr().err.count("logs kept in memory only") == 1


def test_lines_from_many_threads_stay_whole(tmp_path):
    path = tmp_path / "logs.jsonl"
    store = LogStore(file=path)

    def write(thread: int) -> None:
        for n in range(200):
            store.append(json.dumps({"thread": thread, "n": n, "pad": "y" * 300}))

    threads = [threading.Thread(target=write, args=(t,)) for t in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    store.close()
    documents = read_log_file(path)
    assert len(documents) == 1600 == len(path.read_bytes().splitlines())
    for t in range(8):
        assert [d["n"] for d in documents if d["thread"] == t] == list(range(200))
