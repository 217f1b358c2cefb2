import csv
import io
import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

from appliance.cli._since import parse_since
from appliance.errors import BadInput
from appliance.store import Store
from appliance.store.cdr import Cdr, CdrStore


def cdr(n, start, **kw):
    base = dict(uniqueid=f"c{n}", start=start, end=start + 60, src="13800138000", dst="95588",
                disposition="ANSWERED", answer=start + 1, queue="trading", agent="1001", wait=12.5)
    base.update(kw)
    return Cdr(**base)


def test_rows_round_trip_with_duration_and_billsec(tmp_path):
    cdrs = CdrStore(Store(tmp_path / "q.db"))
    cdrs.write(cdr(1, 1000.0, digits="12#", ivr_path="main account"))
    cdrs.write(cdr(2, 2000.0, disposition="ABANDONED", answer=None, agent=None))
    rows = list(cdrs.since(1500))
    assert len(rows) == 1 and rows[0]["uniqueid"] == "c2"
    assert rows[0]["billsec"] == 0.0 and rows[0]["duration"] == 60.0
    first = list(cdrs.since())[0]
    assert (first["billsec"], first["digits"], first["ivr_path"]) == (59.0, "12#", "main account")
    assert [r["uniqueid"] for r in cdrs.since(limit=1)] == ["c2"]


def test_cdrs_of_a_commit_a_full_disk_lost_wait_in_memory_and_are_written_once_it_has_room(tmp_path):
    store = Store(tmp_path / "q.db")
    cdrs = CdrStore(store, backlog_max=2)
    turns = []
    store.group_commits(turns.append)
    pages = store.db.execute("PRAGMA page_count").fetchone()[0]
    store.db.execute(f"PRAGMA max_page_count = {pages}")     # no page more: 'database or disk is full'
    for n in range(3):
        cdrs.write(cdr(n, 1000.0 + n, ivr_path="x" * 5000))  # more than the pages left
        turns.pop()()
    assert (cdrs.committed, [r["uniqueid"] for r in cdrs.backlog], cdrs.dropped) == (0, ["c1", "c2"], 1)
    cdrs.retry()                                            # while the disk is still full: they wait on
    assert (cdrs.committed, len(cdrs.backlog), store.lost_commits.count) == (0, 2, 3)
    assert not turns and not store.db.in_transaction        # in a transaction of their own, rolled back
    store.db.execute("PRAGMA max_page_count = 100000")      # room again
    cdrs.retry()
    assert (cdrs.committed, len(cdrs.backlog)) == (2, 0)
    assert [r["uniqueid"] for r in CdrStore(Store(tmp_path / "q.db")).since()] == ["c1", "c2"]


def test_export_csv_and_json(tmp_path, run_qbox):
    db = tmp_path / "q.db"
    cdrs = CdrStore(Store(db))
    for n in range(3):
        cdrs.write(cdr(n, 1_000_000.0 + n * 100))
    status, out, _ = run_qbox("cdr", "export", "--db", str(db), "--format", "csv", "--since", "1970-01-12T13:48:00+00:00")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert status == 0 and [r["uniqueid"] for r in rows] == ["c1", "c2"]
    assert rows[0]["disposition"] == "ANSWERED" and float(rows[0]["billsec"]) == 59.0
    status, out, _ = run_qbox("cdr", "export", "--db", str(db), "--format", "json", "--last", "1")
    assert [json.loads(line)["uniqueid"] for line in out.splitlines()] == ["c2"]


def test_since_parses_ages_and_dates():
    assert parse_since("15m", now=10_000) == 10_000 - 900
    assert parse_since("2h", now=10_000) == 10_000 - 7200
    assert parse_since("2026-11-28T09:00+08:00") == 1795827600.0
    with pytest.raises(BadInput, match="--since 'yesterday'"):
        parse_since("yesterday")


def test_committed_records_survive_kill_9(tmp_path):
    """A writer killed with SIGKILL mid-stream keeps every record it had committed."""
    db = tmp_path / "q.db"
    writer = textwrap.dedent(f"""
        import sys
        from appliance.store import Store
        from appliance.store.cdr import Cdr, CdrStore
        cdrs = CdrStore(Store({str(db)!r}))
        n = 0
        while True:
            cdrs.write(Cdr(uniqueid=f"c{{n}}", start=n, end=n + 1, src="1", dst="2", disposition="ANSWERED"))
            print(n, flush=True)   # reported only after the commit returned
            n += 1
    """)
    proc = subprocess.Popen([sys.executable, "-c", writer], stdout=subprocess.PIPE, text=True, cwd=os.getcwd())
    reported = -1
    for line in proc.stdout:
        reported = int(line)
        if reported >= 200:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    count = CdrStore(Store(db)).count()
    assert count >= reported + 1
