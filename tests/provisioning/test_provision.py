"""``qbox provision`` against real sshd boxes on 127.0.0.1 (see conftest.py)."""
from __future__ import annotations

import json
import subprocess
import tarfile
import time

import pytest

from tests.provisioning.conftest import in_thread, statuses, variant

ALL = ("leeds-a", "leeds-b", "bristol-1")


def current_release(fleet, name: str) -> str:
    return (fleet.root(name) / "opt/qbox/current").resolve().name


def changes(report: dict, host: str, step: str) -> list[str]:
    entry = next(h for h in report["hosts"] if h["name"] == host)
    return next(s for s in entry["steps"] if s["name"] == step)["changes"]


@pytest.fixture(scope="module")
def sources(qbox_source, tmp_path_factory, wheel_cache):
    """v2: the next version; strict: a release whose validator refuses the 'uk' tone zone."""
    base = tmp_path_factory.mktemp("variants")
    version = ('__version__ = "0.1.0"', '__version__ = "0.1.0+t2"')
    return {
        "v2": variant(qbox_source, base / "v2", {"appliance/__init__.py": version}),
        "strict": variant(qbox_source, base / "strict", {
            "appliance/__init__.py": version,
            "drivers/dahdi/zones.py": ('"uk": (400, 200, 400, 2000), ', '')}),
    }


@pytest.mark.slow
def test_plan_apply_idempotence_variable_change_verify_collect_rollback(fleet, tmp_path):
    status, plan, _ = fleet.provision("plan")
    assert status == 0 and set(statuses(plan).values()) == {"changed"}
    assert not (fleet.root("leeds-a") / "etc").exists(), "plan must not change anything"

    status, report, _ = fleet.provision("apply")
    assert status == 0, report
    assert statuses(report) == {name: "changed" for name in ALL}
    first = fleet.events()
    for name in ALL:   # every handler once per box, in order
        assert [e.split()[1] for e in first if e.startswith(name + " ")] == [
            "systemd-reload", "udev-reload", "dahdi-restart", "qbox-restart"]
    system_conf = (fleet.root("leeds-a") / "etc/dahdi/system.conf").read_text()
    assert "span=1,1,0,ccs,hdb3,crc4" in system_conf and "loadzone=uk" in system_conf

    fleet.clear_events()
    status, again, _ = fleet.provision("apply")
    assert status == 0
    assert {h["name"]: [s["status"] for s in h["steps"]] for h in again["hosts"]} == {
        name: ["ok", "ok", "ok"] for name in ALL}
    assert fleet.events() == []

    # A branch variable changes: plan shows the diffs for the leeds boxes only, then apply.
    fleet.branch_config["leeds"] = {"dahdi": {"loadzones": ["uk", "us"], "defaultzone": "us"}}
    fleet.write_inventory()
    status, plan, _ = fleet.provision("plan")
    assert statuses(plan) == {"leeds-a": "changed", "leeds-b": "changed", "bristol-1": "ok"}
    leeds_a = next(h for h in plan["hosts"] if h["name"] == "leeds-a")
    diffs = {d["path"]: d["diff"] for s in leeds_a["steps"] for d in s.get("diffs", [])}
    assert set(diffs) == {"/etc/qbox/qbox.yaml", "/etc/dahdi/system.conf"}
    assert "-loadzone=uk\n" not in diffs["/etc/dahdi/system.conf"]
    assert "+loadzone=us\n" in diffs["/etc/dahdi/system.conf"]
    assert "-defaultzone=uk\n" in diffs["/etc/dahdi/system.conf"]
    assert "+defaultzone=us\n" in diffs["/etc/dahdi/system.conf"]
    assert "--- leeds-a:/etc/dahdi/system.conf (on the box)" in diffs["/etc/dahdi/system.conf"]
    assert changes(plan, "leeds-a", "handlers") == ["run dahdi-restart", "run qbox-restart"]
    _, text_plan, _ = fleet.provision("plan", json_output=False)
    assert "+defaultzone=us" in text_plan and "nothing to change" in text_plan

    status, report, _ = fleet.provision("apply")
    assert status == 0 and statuses(report) == {"leeds-a": "changed", "leeds-b": "changed", "bristol-1": "ok"}
    assert "defaultzone=us" in (fleet.root("leeds-b") / "etc/dahdi/system.conf").read_text()
    # system.conf changed: DAHDI and the service restart once; the YAML's reload is redundant.
    assert sorted(fleet.events()) == sorted(f"{n} {h}" for n in ("leeds-a", "leeds-b")
                                            for h in ("dahdi-restart", "qbox-restart"))

    status, report, _ = fleet.provision("verify")
    assert status == 0 and statuses(report, "verify") == {name: "ok" for name in ALL}
    checks = next(s for s in report["hosts"][0]["steps"] if s["name"] == "verify")["details"]["checks"]
    assert [(c["name"], c["status"]) for c in checks] == [("release", "ok"), ("config", "ok"), ("service", "ok")]
    # Every check, on boxes without DAHDI: the spans check must say so and fail the box.
    fleet.checks = ["release", "spans"]
    fleet.write_inventory()
    status, report, _ = fleet.provision("--limit", "bristol-1", "verify")
    assert status == 1 and statuses(report, "verify") == {"bristol-1": "failed"}
    assert "spans:" in report["hosts"][0]["message"]

    status, report, _ = fleet.provision("--limit", "bristol*", "collect", "--output", str(tmp_path / "bundles"))
    assert status == 0
    bundle = next(s for s in report["hosts"][0]["steps"] if s["name"] == "collect")["details"]["bundle"]
    with tarfile.open(bundle) as tar:
        names = tar.getnames()
        manifest = json.load(tar.extractfile(next(n for n in names if n.endswith("MANIFEST.json"))))
        version = json.load(tar.extractfile(next(n for n in names if n.endswith("/version.json"))))
    items = {i["file"]: i["status"] for i in manifest["items"]}
    assert items["version.json"] == "ok" and version["version"] == "0.1.0"
    # No service runs on these boxes: what needs one is reported, not faked.
    assert items["status.json"] in ("failed", "not available")
    status_item = next(i for i in manifest["items"] if i["file"] == "status.json")
    assert status_item["status"] == "not available" or status_item["stderr"]
    assert items["files/qbox.yaml"] == "ok" and any(n.endswith("files/system.conf") for n in names)

    # Rollback on one box: the previous system.conf is back, and its handlers ran.
    fleet.clear_events()
    fleet.checks = ["release", "config", "service"]
    fleet.write_inventory()
    status, report, _ = fleet.provision("--limit", "leeds-b", "rollback")
    assert status == 0, report
    assert "defaultzone=uk" in (fleet.root("leeds-b") / "etc/dahdi/system.conf").read_text()
    assert "defaultzone=us" in (fleet.root("leeds-a") / "etc/dahdi/system.conf").read_text()
    assert fleet.events() == ["leeds-b dahdi-restart", "leeds-b qbox-restart"]
    status, report, _ = fleet.provision("--limit", "leeds-b", "rollback")
    assert status == 1 and "nothing to roll back to" in report["hosts"][0]["message"]


@pytest.mark.slow
def test_box_validation_refuses_then_rolling_upgrade_of_the_pair_then_rollback(fleet, sources):
    status, report, _ = fleet.provision("--limit", "leeds", "apply")
    assert status == 0
    v1 = current_release(fleet, "leeds-a")
    config_before = (fleet.root("leeds-a") / "etc/qbox/qbox.yaml").read_text()

    # The new release's own `qbox config check` refuses the configuration: nothing swapped.
    fleet.clear_events()
    status, report, _ = fleet.provision("--limit", "leeds-a", "apply", source=sources["strict"])
    assert status == 1 and statuses(report, "configure") == {"leeds-a": "failed"}
    assert "'uk' is not a DAHDI tone zone" in report["hosts"][0]["message"]
    assert current_release(fleet, "leeds-a") == v1
    assert (fleet.root("leeds-a") / "etc/qbox/qbox.yaml").read_text() == config_before
    assert not list((fleet.root("leeds-a") / "etc/qbox").glob("*.qbox-new"))
    assert fleet.events() == []

    # Upgrade: the standby goes first; `qbox ha switchover` does not exist yet, so the
    # primary must be left alone.
    status, report, _ = fleet.provision("--limit", "leeds", "upgrade", source=sources["v2"])
    assert status == 1
    assert statuses(report) == {"leeds-b": "changed", "leeds-a": "failed"}, json.dumps(report, indent=1)
    assert "no `qbox ha switchover`" in next(h for h in report["hosts"] if h["name"] == "leeds-a")["message"]
    assert current_release(fleet, "leeds-a") == v1
    v2 = current_release(fleet, "leeds-b")
    assert v2 != v1 and v2.startswith("0.1.0+t2-")

    # With a switch-over command the pair completes: standby verified, hand-over, old primary.
    fleet.clear_events()
    fleet.command_overrides["switchover"] = f"echo '{{name}} switchover' >> {fleet.events_file}"
    fleet.write_inventory()
    status, report, _ = fleet.provision("--limit", "leeds", "upgrade", source=sources["v2"])
    assert status == 0, report
    assert fleet.events() == ["leeds-a switchover", "leeds-a qbox-restart"]
    primary = next(h for h in report["hosts"] if h["name"] == "leeds-a")
    assert [s["name"] for s in primary["steps"]] == ["switchover", "bootstrap", "configure", "handlers", "verify"]
    assert primary["role_after"] == "standby" and current_release(fleet, "leeds-a") == v2
    assert statuses(report) == {"leeds-b": "ok", "leeds-a": "changed"}

    # leeds-b is primary now (recorded on the boxes), so the next pair upgrade starts at leeds-a.
    fleet.clear_events()
    status, report, _ = fleet.provision("--limit", "leeds", "upgrade", source=sources["strict"])
    assert status == 1 and [h["name"] for h in report["hosts"]] == ["leeds-a", "leeds-b"]
    assert statuses(report) == {"leeds-a": "failed", "leeds-b": "skipped"}
    assert current_release(fleet, "leeds-b") == v2

    status, report, _ = fleet.provision("--limit", "leeds-a", "rollback", source=sources["v2"])
    assert status == 0, report
    assert current_release(fleet, "leeds-a") == v1
    qbox = fleet.root("leeds-a") / "opt/qbox/current/bin/qbox"
    assert subprocess.run([str(qbox), "version"], capture_output=True, text=True).stdout.strip() == "qbox 0.1.0"


@pytest.mark.slow
def test_host_killed_mid_run_is_reported_and_the_others_finish(fleet):
    marker = fleet.root("bristol-1") / "handler-started"
    fleet.box_vars["bristol-1"] = {"commands": {"qbox-restart": f"touch {marker} && sleep 60"}}
    fleet.write_inventory()
    thread, result = in_thread(fleet.provision, "apply")
    deadline = time.monotonic() + 300
    while not marker.exists():
        assert thread.is_alive() and time.monotonic() < deadline, "bristol-1 never reached its handlers"
        time.sleep(0.1)
    fleet.sshd["bristol-1"].kill()
    thread.join(timeout=120)
    assert not thread.is_alive()
    status, report, _ = result[0]
    assert status == 1
    assert statuses(report) == {"leeds-a": "changed", "leeds-b": "changed", "bristol-1": "failed"}
    assert statuses(report, "handlers")["bristol-1"] == "failed"
    assert "lost" in next(h for h in report["hosts"] if h["name"] == "bristol-1")["message"]
    # The unreachable box is reported as such on the next run; the others are up to date.
    status, report, _ = fleet.provision("apply")
    assert statuses(report) == {"leeds-a": "ok", "leeds-b": "ok", "bristol-1": "unreachable"}


def test_unknown_and_changed_host_keys_are_refused(fleet):
    fleet.sshd["bristol-1"].stop()
    fleet.sshd["bristol-1"].new_host_key()
    fleet.sshd["bristol-1"].start(port=fleet.sshd["bristol-1"].port)
    status, report, _ = fleet.provision("plan")
    assert status == 1
    assert statuses(report) == {"leeds-a": "changed", "leeds-b": "changed", "bristol-1": "unreachable"}
    message = next(h for h in report["hosts"] if h["name"] == "bristol-1")["message"]
    assert "CHANGED" in message and "refusing to connect" in message
    assert str(fleet.known_hosts) in message

    lines = fleet.known_hosts.read_text().splitlines()
    fleet.known_hosts.write_text("\n".join(lines[:1]) + "\n")   # only leeds-a stays pinned
    status, report, _ = fleet.provision("plan")
    assert statuses(report) == {"leeds-a": "changed", "leeds-b": "unreachable", "bristol-1": "unreachable"}
    message = next(h for h in report["hosts"] if h["name"] == "leeds-b")["message"]
    assert "is not pinned" in message and "ssh-keyscan" in message
    assert not any(fleet.root(n).exists() for n in ALL)


def test_failure_percentage_stops_a_rolling_upgrade(fleet):
    fleet.sshd["leeds-a"].kill()
    status, report, _ = fleet.provision("upgrade", "--batch-size", "1", "--max-fail-percent", "0")
    assert status == 1
    assert statuses(report) == {"leeds-a": "unreachable", "leeds-b": "skipped", "bristol-1": "skipped"}
    assert "more than --max-fail-percent 0" in report["stopped"]
    assert not fleet.root("bristol-1").exists() and not fleet.root("leeds-b").exists()


def test_broken_inventory_reports_every_error_before_touching_a_host(fleet):
    text = fleet.inventory.read_text()
    broken = text.replace("role: standby", "role: backup").replace("connect_timeout: 5", "connect_timeout: soon")
    fleet.inventory.write_text(broken)
    status, out, err = fleet.provision("apply", json_output=False)
    assert status == 2 and out == ""
    lines = err.splitlines()
    role_line = 1 + broken.splitlines().index(next(l for l in broken.splitlines() if "role: backup" in l))
    assert any(line.startswith(f"{fleet.inventory}:{role_line}:") and
               "regions.north.branches.leeds.boxes.leeds-b.role: 'backup' is not one of primary, standby" in line
               for line in lines), err
    assert any("ssh.connect_timeout: expected a number" in line for line in lines), err
    assert lines[-1].endswith("2 error(s); no box was touched")
    assert not any(fleet.root(n).exists() for n in ALL)


def test_limit_selects_and_refuses_half_a_pair_for_upgrade(fleet):
    status, report, _ = fleet.provision("--limit", "south", "plan")
    assert [h["name"] for h in report["hosts"]] == ["bristol-1"]
    status, report, _ = fleet.provision("--limit", "leeds,!leeds-b", "plan")
    assert [h["name"] for h in report["hosts"]] == ["leeds-a"]
    status, _, err = fleet.provision("--limit", "leeds-a", "upgrade", json_output=False)
    assert status == 2 and "not its pair partner leeds-b" in err
    status, _, err = fleet.provision("--limit", "paris*", "plan", json_output=False)
    assert status == 2 and "matches no box" in err
