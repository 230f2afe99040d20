"""The execution engine on simulated hypervisors and BMCs (tests/fakes: fake virsh and ipmitool on
PATH, state in files). The real programs are exercised by tests/integration on the test datacenter."""
import json
import os
import sys
import threading
import time

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.backend import Backend
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.engine import STATISTICS_LANE
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.hosts import HostAccessError, host_access
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.journal import Journal, plan_digest
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.run import RunRequest, execute
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.selection import SelectionError, parse_waves, select
from ansible_collections.wavedrain.kvm.plugins.module_utils._executor.settings import ExecutionSettings, SettingsError
from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import Virsh
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import Plan, migrate, power_off, power_on

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "..", "fakes"))
import fake_dc  # noqa: E402


def timed(actions, durations):
    """A plan whose predicted times follow the graph with the given durations (seconds)."""
    plan = Plan(actions, strategy="custom").to_dict()
    end = {}
    for a in plan["actions"]:  # listed in dependency order
        a["start_s"] = max((end[d] for d in a["after"]), default=0.0)
        a["end_s"] = end[a["id"]] = a["start_s"] + durations.get(a["id"], 0.05)
    plan["predicted"] = {"completion_s": max(end.values()), "mean_migration_s": 0.05, "std_migration_s": 0}
    return plan


def two_hosts_into_one_spare():
    return timed([
        power_on("s1", 1),
        migrate("a1", "h1", "s1", 1, ["boot/s1"]),
        migrate("a2", "h1", "s1", 1, ["boot/s1"]),
        power_off("h1", 1, ["migrate/a1", "migrate/a2"]),
        migrate("b1", "h2", "s1", 2, ["halt/h1"]),
        power_off("h2", 2, ["migrate/b1"]),
    ], {"boot/s1": 0.2, "halt/h1": 0.1, "halt/h2": 0.1})


class Run:
    """One run of the engine against a fake datacenter under tmp_path."""

    def __init__(self, tmp_path, monkeypatch, plan, extra_vms=None):
        self.dir = str(tmp_path)
        self.dc = fake_dc.build(os.path.join(self.dir, "dc"), plan, scale=1, extra_vms=extra_vms)
        for k, v in fake_dc.env(self.dc).items():
            monkeypatch.setenv(k, v)
        self.plan = plan
        self.hostvars = fake_dc.hostvars(plan)
        self.lines = []

    def __call__(self, check_mode=False, model=None, **options):
        settings = ExecutionSettings(**dict({"poll_s": 0.01, "progress_interval_s": 0.2,
                                             "migration_retry_delay_s": 0}, **options.pop("settings", {})))
        req = RunRequest(self.plan, Backend(host_access(self.plan, model, self.hostvars), settings, Virsh()),
                         settings, os.path.join(self.dir, "report.json"), os.path.join(self.dir, "journal"),
                         model=model, emit=options.pop("emit", lambda line, verbosity=0: self.lines.append(line)),
                         check_mode=check_mode, **options)
        return execute(req)

    def where(self, vm):
        return [h for h in os.listdir(os.path.join(self.dc, "hosts"))
                if fake_dc.has_domain(self.dc, h, vm)]

    def power(self, host):
        with open(os.path.join(self.dc, "hosts", host, "power")) as f:
            return f.read().strip()

    def report(self):
        with open(os.path.join(self.dir, "report.json")) as f:
            rep = json.load(f)
        return rep, {r["id"]: r for r in rep["actions"]}

    def journal(self):
        with open(os.path.join(self.dir, "journal")) as f:
            return [json.loads(line) for line in f]


def test_drain_runs_every_action_after_its_dependencies(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    out = run()
    assert not out["failed"], out
    rep, rows = run.report()
    assert {r["outcome"] for r in rows.values()} == {"booted", "migrated", "halted"}
    for a in run.plan["actions"]:
        for dep in a["after"]:
            assert rows[a["id"]]["measured_start_s"] >= rows[dep]["measured_end_s"], (a["id"], dep)
    assert run.where("a1") == run.where("a2") == run.where("b1") == ["s1"]
    assert run.power("h1") == run.power("h2") == "off" and run.power("s1") == "on"
    # the two migrations after the boot ran side by side, as planned
    a1, a2 = rows["migrate/a1"], rows["migrate/a2"]
    assert a1["measured_start_s"] < a2["measured_end_s"] and a2["measured_start_s"] < a1["measured_end_s"]
    s = rep["summary"]
    assert s["predicted_max_in_flight"] == s["measured_max_in_flight"] == 2
    assert s["predicted_max_migrations_in_flight"] == s["measured_max_migrations_in_flight"] == 2
    assert "wave 1 of 2 started (4 actions)" in run.lines and any(x.startswith("wave 2 of 2 ended") for x in run.lines)
    assert any(x.startswith("done migrate/a1: a1 h1 -> s1 migrated in") and "predicted" in x for x in run.lines)
    events = run.journal()
    assert [e["event"] for e in events].count("end") == len(run.plan["actions"])
    assert events[0]["event"] == "run_start" and events[-1]["event"] == "run_end"
    assert rep["summary"]["end_state"] == {"vms_checked": 3, "problems": []}
    # libvirt's job statistics are fetched after a migration ends, off the path of what waits for it
    for vm in ("a1", "a2", "b1"):
        assert rows["migrate/" + vm]["jobinfo"]["time_elapsed_ms"] > 0, rows["migrate/" + vm]
        end = next(i for i, e in enumerate(events) if e["event"] == "end" and e["id"] == "migrate/" + vm)
        assert "jobinfo" not in events[end]
        assert any(e["event"] == "statistics" and e["id"] == "migrate/" + vm for e in events[end:])


def test_a_vm_not_running_on_its_destination_after_the_run_fails_it(tmp_path, monkeypatch):
    """libvirt said the migration succeeded, but the guest stopped on arrival: the run checks the
    end state against the hypervisors and says so, instead of reporting a clean drain."""
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    os.makedirs(os.path.join(run.dc, "arrives"))
    with open(os.path.join(run.dc, "arrives", "a2"), "w") as f:
        f.write("shut off\n")
    out = run()
    assert out["failed"], out
    assert out["end_state_problems"] == [
        "migrate/a2: a2 was moved to s1 but is shut off there; look at it with virsh -c qemu+tcp://s1/system list --all"]
    assert "a2 was moved to s1 but is shut off there" in out["msg"]
    assert "run again" not in out["msg"]  # every action went through: a rerun would change nothing
    rep, rows = run.report()
    assert rep["summary"]["end_state"] == {"vms_checked": 3, "problems": out["end_state_problems"]}
    assert run.journal()[-1]["end_state"] == out["end_state_problems"]


def test_bmc_password_never_on_a_command_line(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    assert not run()["failed"]
    with open(os.path.join(run.dc, "ipmitool.argv")) as f:
        argv = f.read()
    assert "chassis power on" in argv and fake_dc.PASSWORD not in argv and " -E " in argv
    assert " -p 623 " in argv and " -C 3 " in argv and " -L ADMINISTRATOR " in argv


def test_failed_boot_leaves_the_source_on_with_its_vms(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    run.hostvars["s1"]["wavedrain_bmc_password"] = "wrong"
    out = run()
    assert out["failed"] and "boot/s1" in out["failed_actions"]
    assert "does not answer or refuses" in out["failed_actions"]["boot/s1"]
    assert out["not_run"] == ["halt/h1", "halt/h2", "migrate/a1", "migrate/a2", "migrate/b1"]
    assert run.where("a1") == ["h1"] and run.power("h1") == "on" and run.power("h2") == "on"
    rep, rows = run.report()
    assert rows["halt/h1"]["outcome"] == "not_run"


def test_safe_mode_refuses_a_power_off_the_plan_did_not_foresee(tmp_path, monkeypatch):
    """A wrong plan moves a1 INTO h2, then powers h2 off: the live check at start cannot see it
    (h2 is empty then); safe mode at the power-off refuses, a1 keeps running."""
    plan = timed([migrate("a1", "h1", "h2", 1), power_off("h2", 1, ["migrate/a1"])], {})
    run = Run(tmp_path, monkeypatch, plan)
    out = run()
    assert out["failed"]
    assert "refusing to power off h2: it still holds domains: a1 (running)" in out["failed_actions"]["halt/h2"]
    assert run.where("a1") == ["h2"] and run.power("h2") == "on"


def test_plan_contradicted_by_the_live_state_touches_nothing(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare(), extra_vms={"stray": "h2"})
    os.rename(os.path.join(run.dc, "hosts", "h1", "doms", "a2"), os.path.join(run.dc, "hosts", "h2", "doms", "a2"))
    out = run()
    assert out["failed"] and out["msg"].startswith("refusing to start, nothing was touched")
    assert any("a2 is not on h1 but on h2" in p for p in out["problems"]), out["problems"]
    assert any("h2 holds a2, stray, which no action of this run moves away" in p for p in out["problems"])
    assert run.power("s1") == "off" and run.where("a1") == ["h1"]
    assert not os.path.exists(os.path.join(run.dir, "report.json"))


def test_check_mode_prints_and_touches_nothing(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    out = run(check_mode=True)
    assert not out.get("failed") and run.power("s1") == "off" and run.where("a1") == ["h1"]
    assert "wave 1 boot/s1: would boot s1 through its BMC, wait for its libvirt" in run.lines
    assert not os.path.exists(os.path.join(run.dir, "journal"))


def test_waves_one_by_one_then_resume_knows_what_is_left(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    out = run(waves="1")
    assert not out["failed"], out
    rep, rows = run.report()
    assert rows["migrate/b1"]["outcome"] == "not_selected" and run.where("b1") == ["h2"]
    out = run(waves="2-")
    assert not out["failed"], out
    rep, rows = run.report()
    assert rows["boot/s1"]["outcome"] == "not_selected" and rows["migrate/b1"]["outcome"] == "migrated"
    # a third run of everything redoes nothing
    out = run()
    rep, rows = run.report()
    assert {r["outcome"] for r in rows.values()} == {"done_before"}, rows


def test_wave_two_alone_is_refused_before_wave_one(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    out = run(waves="2")
    assert out["failed"] and "migrate/b1 depends on halt/h1 (wave 1), which is neither done nor selected" in out["msg"]


def test_resume_verifies_what_was_in_flight(tmp_path, monkeypatch):
    """A journal left by a killed run: boot done, a1's migration started and never ended (it did
    finish on the hypervisors), a2's started and never ran. The new run redoes neither the boot
    nor a1, and moves a2."""
    plan = two_hosts_into_one_spare()
    run = Run(tmp_path, monkeypatch, plan)
    with open(os.path.join(run.dc, "hosts", "s1", "power"), "w") as f:
        f.write("on\n")
    open(os.path.join(run.dc, "hosts", "s1", "up"), "w").close()  # booted: its libvirt answers
    os.rename(os.path.join(run.dc, "hosts", "h1", "doms", "a1"), os.path.join(run.dc, "hosts", "s1", "doms", "a1"))
    with open(os.path.join(run.dir, "journal"), "w") as f:
        for ev in ({"event": "run_start", "plan_digest": plan_digest(plan)}, {"event": "start", "id": "boot/s1"},
                   {"event": "end", "id": "boot/s1", "outcome": "booted"}, {"event": "start", "id": "migrate/a1"},
                   {"event": "start", "id": "migrate/a2"}):
            f.write(json.dumps(ev) + "\n")
    out = run()
    assert not out["failed"], out
    rep, rows = run.report()
    assert rows["boot/s1"]["outcome"] == rows["migrate/a1"]["outcome"] == "done_before"
    assert rows["migrate/a2"]["outcome"] == "migrated" and run.where("a2") == ["s1"]
    assert any("migrate/a2 was in flight when the last run stopped" in x for x in run.lines)


def test_one_run_at_a_time(tmp_path, monkeypatch):
    plan = two_hosts_into_one_spare()
    run = Run(tmp_path, monkeypatch, plan)
    holder = Journal(os.path.join(run.dir, "journal"), plan_digest(plan))
    holder.lock()
    try:
        out = run()
    finally:
        holder.close()
    assert out["failed"] and "another run of this plan is in progress (pid %d" % os.getpid() in out["msg"]
    assert run.power("s1") == "off"


def test_report_path_unwritable_keeps_the_journal(tmp_path, monkeypatch):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    settings = ExecutionSettings(poll_s=0.01)
    req = RunRequest(run.plan, Backend(host_access(run.plan, None, run.hostvars), settings, Virsh()), settings,
                     os.path.join(run.dir, "missing-dir", "report.json"), os.path.join(run.dir, "journal"))
    out = execute(req)
    assert out["failed"] and "cannot write the run report" in out["msg"] and "journal" in out["msg"]
    assert run.where("b1") == ["s1"]  # the work itself was done
    assert len(run.journal()) > 10


def test_hostile_and_missing_inventory_entries_are_refused(tmp_path, monkeypatch):
    plan = two_hosts_into_one_spare()
    hv = fake_dc.hostvars(plan)
    hv["h1"]["wavedrain_libvirt_uri"] = "qemu+ssh://root@h1/system;touch /tmp/x"
    del hv["h2"]
    with pytest.raises(HostAccessError) as err:
        host_access(plan, None, hv)
    assert "host h2 of the plan is not in the inventory" in str(err.value)
    hv["h2"] = {}
    with pytest.raises(HostAccessError) as err:
        host_access(plan, None, hv)
    assert "host h1: wavedrain_libvirt_uri" in str(err.value)


def test_settings_are_checked():
    with pytest.raises(SettingsError) as err:
        ExecutionSettings(migration_timeout_s="nan", power_off_method="pull-the-plug", retries=3)
    text = str(err.value)
    assert "wavedrain_migration_timeout_s='nan'" in text and "use one of soft, off" in text
    assert "unknown execution settings: retries" in text


def test_wave_selection():
    assert parse_waves("2-", 4) == {2, 3, 4} and parse_waves("1,3", 4) == {1, 3} and parse_waves("-2", 4) == {1, 2}
    for bad in ("x", "3-1", "9"):
        with pytest.raises(SelectionError):
            parse_waves(bad, 4)
    plan = timed([migrate("a", "h1", "h2", 1), migrate("b", "h3", "h4", 1), power_off("h3", 1, ["migrate/b"])], {})
    assert select(plan["actions"], None, ["h4"]) == {"migrate/b", "halt/h3"}
    with pytest.raises(SelectionError):
        select(plan["actions"], None, ["nowhere"])


def test_engine_keeps_up_with_many_parallel_actions(tmp_path, monkeypatch):
    """60 independent 1 s migrations: all 60 are dispatched at once (the plan's concurrency, no
    pool cap), long before the first one can end."""
    plan = timed([migrate("v%02d" % i, "h1", "h2", 1) for i in range(60)], {})
    for a in plan["actions"]:
        a["end_s"] = 1.0
    run = Run(tmp_path, monkeypatch, plan)
    started = threading.active_count()
    assert not run()["failed"]
    rep, rows = run.report()
    dispatched = max(r["ready_s"] for r in rows.values())
    first_end = min(r["measured_end_s"] for r in rows.values())
    assert dispatched < first_end, "every migration was dispatched before the first one ended"
    assert threading.active_count() <= started + 1


@pytest.mark.parametrize("predicted", [True, False])
def test_never_more_at_once_than_the_plan(tmp_path, monkeypatch, predicted):
    """Three migrations the graph lets run together, which the plan runs one after the other (as
    when real durations drift so that more would overlap than planned): one at a time, in the
    plan's order. A plan without predicted times bounds nothing but the graph."""
    plan = timed([migrate("v%d" % i, "h1", "h2", 1) for i in (3, 1, 2)], {})
    for a in plan["actions"]:
        slot = int(a["vm"][1]) - 1
        a["start_s"], a["end_s"] = 0.3 * slot, 0.3 * (slot + 1)
    run = Run(tmp_path, monkeypatch, plan)  # each simulated migration lasts 0.3 s
    if not predicted:
        for a in plan["actions"]:
            a["start_s"] = a["end_s"] = None
    assert not run()["failed"]
    rep, rows = run.report()
    order = sorted(rows, key=lambda aid: rows[aid]["measured_start_s"])
    if predicted:
        assert rep["summary"]["measured_max_in_flight"] == rep["summary"]["predicted_max_in_flight"] == 1
        assert order == ["migrate/v1", "migrate/v2", "migrate/v3"]
    else:
        assert rep["summary"]["measured_max_in_flight"] == 3


def test_a_slow_print_holds_up_no_other_lane(tmp_path, monkeypatch):
    """Progress lines and journal events are written outside the engine's lock: while the line of
    one lane's end takes a second to print (a slow terminal, AWX's output), the other lane goes on."""
    plan = timed([migrate("a1", "h1", "h2", 1), migrate("b1", "h3", "h4", 1),
                  migrate("b2", "h3", "h4", 1, ["migrate/b1"])], {"migrate/a1": 0.05, "migrate/b1": 0.2})
    run = Run(tmp_path, monkeypatch, plan)

    def slow_emit(line, verbosity=0):
        if line.startswith("done migrate/a1"):
            time.sleep(1.0)
        run.lines.append(line)
    assert not run(emit=slow_emit)["failed"]
    rep, rows = run.report()
    assert rows["migrate/b1"]["measured_start_s"] < rows["migrate/a1"]["measured_end_s"] < rows["migrate/b1"]["measured_end_s"]
    assert rows["migrate/b2"]["measured_start_s"] - rows["migrate/b1"]["measured_end_s"] < 0.5
    events = run.journal()
    for aid in rows:  # each action's start is on disk before its end
        kinds = [e["event"] for e in events if e.get("id") == aid and e["event"] in ("start", "end")]
        assert kinds == ["start", "end"], (aid, kinds)


def test_worker_threads_for_the_plans_concurrency_exist_before_the_first_action(tmp_path, monkeypatch):
    """The engine starts as many threads as the plan runs actions at once before its clock starts:
    a thread started in the middle of a burst of ready actions made the dispatcher wait for it."""
    plan = timed([migrate("v%02d" % i, "h1", "h2", 1) for i in range(20)], {})
    run = Run(tmp_path, monkeypatch, plan)
    seen, real_run = [], Backend.run

    def counting_run(self, action, careful=False):
        seen.append(threading.active_count())
        return real_run(self, action, careful=careful)
    monkeypatch.setattr(Backend, "run", counting_run)
    started = threading.active_count()
    assert not run()["failed"]
    assert seen[0] >= started + 20, "the first action ran while the pool was still being built"


def virsh_calls(run):
    """virsh subcommand -> how many times the fake virsh was called with it."""
    calls = {}
    with open(os.path.join(run.dc, "virsh.argv")) as f:
        for line in f:
            cmd = line.split()[3]  # -q -c URI CMD ...
            calls[cmd] = calls.get(cmd, 0) + 1
    return calls


@pytest.mark.parametrize("statistics", [True, False])
def test_processes_per_action_and_statistics_left_out_on_request(tmp_path, monkeypatch, statistics):
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    assert not run(settings={"migration_statistics": statistics})["failed"]
    calls = virsh_calls(run)
    # one list per host before (h1, h2, s1), one per power-off (safe mode), one per destination after
    assert calls["list"] == 3 + 2 + 1
    assert calls["migrate"] == 3 and calls.get("domjobinfo", 0) == (3 if statistics else 0)
    rep, rows = run.report()
    assert all(("jobinfo" in rows["migrate/" + vm]) == statistics for vm in ("a1", "a2", "b1"))
    assert (rep["summary"]["measured_mean_migration_job_s"] is not None) == statistics
    assert any(e["event"] == "statistics" for e in run.journal()) == statistics


class SlowStatistics:
    """Backend.job_statistics made slow (``delay_s`` per fetch, as libvirt under load), noting
    the most fetches running at once, whether each was asked for at once (``now``) and when each
    ended."""

    def __init__(self, monkeypatch, delay_s=0.3):
        self.lock, self.running, self.most, self.urgent, self.ended_at = threading.Lock(), 0, 0, [], []
        real_statistics = Backend.job_statistics

        def slow_statistics(backend, action, now=False):
            with self.lock:
                self.running += 1
                self.most = max(self.most, self.running)
                self.urgent.append(now)
            time.sleep(delay_s)
            try:
                return real_statistics(backend, action, now=now)
            finally:
                with self.lock:
                    self.running -= 1
                    self.ended_at.append(time.monotonic())
        monkeypatch.setattr(Backend, "job_statistics", slow_statistics)


def test_job_statistics_have_a_bounded_lane_that_no_action_waits_for(tmp_path, monkeypatch):
    """Six migrations end at once and libvirt is slow to give their job statistics: while
    actions run, at most STATISTICS_LANE fetches run at a time, the power-off that waited for the
    migrations starts before the last of them, and the report still has every migration's jobinfo
    (the lane is drained before the report is written)."""
    vms = ["v%d" % i for i in range(6)]
    plan = timed([migrate(vm, "h1", "h2", 1) for vm in vms] + [power_off("h1", 1, ["migrate/" + vm for vm in vms])],
                 dict({"migrate/" + vm: 0.2 for vm in vms}, **{"halt/h1": 2.5}))
    run = Run(tmp_path, monkeypatch, plan)
    fetches, halt_started, real_run = SlowStatistics(monkeypatch), [], Backend.run

    def noting_run(self, action, careful=False):
        if action["type"] == "power_off":
            halt_started.append(time.monotonic())
        return real_run(self, action, careful=careful)
    monkeypatch.setattr(Backend, "run", noting_run)
    assert not run()["failed"]
    assert fetches.most == STATISTICS_LANE < len(vms)
    assert halt_started[0] < max(fetches.ended_at), "the power-off waited for the job statistics"
    rep, rows = run.report()
    assert all(rows["migrate/" + vm]["jobinfo"]["time_elapsed_ms"] > 0 for vm in vms)
    assert sorted(e["id"] for e in run.journal() if e["event"] == "statistics") == ["migrate/" + vm for vm in vms]


def test_the_thread_whose_action_ends_goes_on_with_the_next(tmp_path, monkeypatch):
    """A chain of migrations (one lane) runs on one thread: the thread whose migration ends
    records it and starts the next itself, where waking a dispatching thread cost tens of
    milliseconds per action on a loaded controller."""
    plan = timed([migrate("v1", "h1", "h2", 1), migrate("v2", "h1", "h2", 1, ["migrate/v1"]),
                  migrate("v3", "h1", "h2", 1, ["migrate/v2"])], {})
    run = Run(tmp_path, monkeypatch, plan)
    ran_on, real_run = {}, Backend.run

    def noting_run(self, action, careful=False):
        ran_on[action["id"]] = threading.get_ident()
        return real_run(self, action, careful=careful)
    monkeypatch.setattr(Backend, "run", noting_run)
    assert not run()["failed"]
    assert ran_on["migrate/v1"] == ran_on["migrate/v2"] == ran_on["migrate/v3"] != threading.get_ident()


def test_a_bug_in_the_bookkeeping_ends_the_run_instead_of_hanging_it(tmp_path, monkeypatch):
    """The bookkeeping runs on the threads whose actions end: an error there must reach the
    caller, and nothing more may start after it."""
    from ansible_collections.wavedrain.kvm.plugins.module_utils._executor import engine

    def broken(self, a, r):
        raise RuntimeError("bookkeeping bug")
    monkeypatch.setattr(engine._Progress, "finished", broken)
    run = Run(tmp_path, monkeypatch, two_hosts_into_one_spare())
    with pytest.raises(RuntimeError, match="bookkeeping bug"):
        run()
    started = [e["id"] for e in run.journal() if e["event"] == "start"]
    assert started == ["boot/s1"], started


def test_statistics_left_when_the_run_is_over_are_fetched_at_once(tmp_path, monkeypatch):
    """Once the last action has ended nothing waits for the CPU: the fetches still queued in the
    lane run side by side at the normal priority, and every migration has its jobinfo."""
    vms = ["v%d" % i for i in range(6)]
    run = Run(tmp_path, monkeypatch, timed([migrate(vm, "h1", "h2", 1) for vm in vms], {}))
    fetches = SlowStatistics(monkeypatch)
    assert not run()["failed"]
    assert any(fetches.urgent) and fetches.most > STATISTICS_LANE
    rep, rows = run.report()
    assert all(rows["migrate/" + vm]["jobinfo"]["time_elapsed_ms"] > 0 for vm in vms)
