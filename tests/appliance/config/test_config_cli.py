import json


def test_check_ok_summarises_the_box(run_qbox):
    status, out, _ = run_qbox("config", "check", "examples/branch.yaml")
    assert status == 0
    assert "3 span(s), 60 trunk lines" in out


def test_check_reports_every_error_and_exits_2(run_qbox, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("node: {name: x_y}\nspans:\n  - {number: 0, type: e3}\n")
    status, out, err = run_qbox("config", "check", str(bad))
    assert status == 2 and out == ""
    lines = err.splitlines()
    assert lines[0] == f"{bad}:1:8: node.name: 'x_y' is not a valid host name (letters, digits and '-', up to 63)"
    assert f"{bad}:3:6: spans[0].number: 0 is out of range (1 to 256)" in lines
    assert f"{bad}:3:17: spans[0].type: 'e3' is not one of e1, t1" in lines
    assert lines[-1] == f"{bad}: {len(lines) - 1} error(s)"


def test_check_json_lists_errors_with_positions(run_qbox, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("node: {name: ok}\nspans: {}\n")
    status, out, _ = run_qbox("config", "check", "--json", str(bad))
    report = json.loads(out)
    assert status == 2 and report["valid"] is False
    assert report["errors"] == [{"line": 2, "column": 1, "file": str(bad), "path": "spans",
                                 "message": "expected a list, got a mapping"}]


def test_missing_file_is_bad_input(run_qbox, tmp_path):
    status, _, err = run_qbox("config", "dahdi", str(tmp_path / "none.yaml"))
    assert status == 2 and err.strip().endswith("none.yaml: cannot read: No such file or directory")


def test_dahdi_prints_system_conf(run_qbox):
    status, out, _ = run_qbox("config", "dahdi", "examples/t1.yaml")
    assert status == 0 and "span=1,1,0,esf,b8zs\n" in out and "defaultzone=us\n" in out
