"""Bad datacenter models: each one is refused with a message naming the object and the fix."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

from catalogue import accepted, base_model, changed, refused

INF, NAN = float("inf"), float("nan")

# (case id, model, words the refusal must hold)
MODELS = [
    ("cpu-inf", changed("hosts.h1.cpu", INF), ["hosts.h1.cpu must be a finite number"]),
    ("cpu-nan", changed("hosts.h1.cpu", NAN), ["hosts.h1.cpu must be a finite number"]),
    ("memory-minus-inf", changed("hosts.s2.memory_mb", -INF), ["hosts.s2.memory_mb must be a finite"]),
    ("boot-inf", changed("hosts.s1.boot_s", INF), ["hosts.s1.boot_s must be a finite"]),
    ("shutdown-nan", changed("hosts.h2.shutdown_s", NAN), ["hosts.h2.shutdown_s must be a finite"]),
    ("nic-inf", changed("hosts.h1.nic_mbps", INF), ["hosts.h1.nic_mbps must be a finite"]),
    ("power-max-nan", changed("hosts.h1.power_w", {"max": NAN}), ["hosts.h1.power_w.max must be a finite"]),
    ("vm-memory-nan", changed("vms.a.memory_mb", NAN), ["vms.a.memory_mb must be a finite"]),
    ("vm-used-inf", changed("vms.a.used_mb", INF), ["vms.a.used_mb must be a finite"]),
    ("vm-dirty-nan", changed("vms.b.dirty_mb_s", NAN), ["vms.b.dirty_mb_s must be a finite"]),
    ("vm-wws-inf", changed("vms.c.wws_mb", INF), ["vms.c.wws_mb must be a finite"]),
    ("vm-load-nan", changed("vms.a.cpu_load", NAN), ["vms.a.cpu_load must be a finite"]),
    ("vm-cpu-huge", changed("vms.a.cpu", 10 ** 400), ["vms.a.cpu is too large"]),
    ("efficiency-nan", changed("network.efficiency", NAN), ["network.efficiency must be a finite"]),
    ("setup-inf", changed("network.migration_setup_s", INF), ["network.migration_setup_s must be a finite"]),
    ("link-speed-inf", changed("network.links.0.member_mbps", INF), ["member_mbps must be a finite"]),
    ("link-members-inf", changed("network.links.0.members", INF), ["members must be a finite"]),
    ("cap-nan", changed("constraints.max_online_hosts", NAN), ["constraints.max_online_hosts must be a finite"]),
    ("deadline-inf", changed("constraints.deadline_s", INF), ["constraints.deadline_s must be a finite"]),
    ("budget-nan", changed("constraints.power_budget_w", NAN), ["constraints.power_budget_w must be a finite"]),
    ("downtime-minus-inf", changed("constraints.max_downtime_ms", -INF), ["constraints.max_downtime_ms"]),
    ("timeout-nan", changed("constraints.migration_timeout_s", NAN), ["constraints.migration_timeout_s"]),
    ("cpu-bool", changed("hosts.h1.cpu", True), ["hosts.h1.cpu must be a number, got True"]),
    ("cpu-text", changed("hosts.h1.cpu", "8"), ["hosts.h1.cpu must be a number, got '8'"]),
    ("cpu-zero", changed("hosts.h1.cpu", 0), ["hosts.h1.cpu must be > 0"]),
    ("members-fraction", changed("network.links.0.members", 1.5), ["members must be a whole number"]),
    ("cap-fraction", changed("constraints.max_online_hosts", 2.5), ["max_online_hosts must be a whole"]),
    ("used-above-memory", changed("vms.a.used_mb", 5000), ["vms.a.used_mb (5000.0) exceeds memory_mb"]),
    ("misspelled-maintenance", {**{k: v for k, v in base_model().items() if k != "maintenance"},
                                "maintenence": base_model()["maintenance"]},
     ["unknown top-level key 'maintenence'", "did you mean 'maintenance'"]),
    ("misspelled-hosts", {**base_model(), "host": {}}, ["unknown top-level key 'host'", "did you mean 'hosts'"]),
    ("unknown-top-key", {**base_model(), "flavour": 1}, ["unknown top-level key 'flavour'", "known: "]),
    ("vm-host-list", changed("vms.a.host", ["h1"]), ["vms.a.host must be one host name", "['h1']"]),
    ("vm-host-mapping", changed("vms.a.host", {"name": "h1"}), ["vms.a.host must be one host name"]),
    ("vm-host-unknown", changed("vms.a.host", "h9"), ["vms.a.host: unknown host 'h9'"]),
    ("vm-host-missing", changed("vms.a", {"cpu": 1, "memory_mb": 10}), ["vms.a: missing 'host'"]),
    ("vm-destination-list", changed("vms.a.destination", ["s1"]), ["vms.a.destination must be one host name"]),
    ("spread-nested", changed("constraints.spread", [["a", ["b", "c"]]]),
     ["constraints.spread[0] must list VM names", "cannot be nested"]),
    ("spread-number", changed("constraints.spread", [["a", 1]]), ["constraints.spread[0] must list VM names"]),
    ("spread-flat", changed("constraints.spread", ["a", "b"]), ["constraints.spread must be a list of VM-name lists"]),
    ("spread-twice", changed("constraints.spread", [["a", "a"]]), ["constraints.spread[0] lists a twice"]),
    ("spread-unknown", changed("constraints.spread", [["a", "zz"]]), ["constraints.spread[0]: unknown VM 'zz'"]),
    ("spread-pinned-together", changed("vms.b.destination", "s1", changed("vms.a.destination", "s1",
                                       changed("constraints.spread", [["a", "b"]]))),
     ["constraints.spread[0]: a and b would both end on s1", "vms.a.destination", "split the group"]),
    ("spread-pinned-onto-staying", changed("vms.d", {"host": "s2", "cpu": 1, "memory_mb": 1024},
                                           changed("vms.a.destination", "s2",
                                                   changed("constraints.spread", [["a", "d"]]))),
     ["a and d would both end on s2", "d stays on s2"]),
    ("host-key-int", changed(("hosts", 1), base_model()["hosts"]["s2"]), ["host name 1 must be a string, got int"]),
    ("vm-key-int", changed(("vms", 7), base_model()["vms"]["a"]), ["VM name 7 must be a string, got int"]),
    ("host-key-space", changed(("hosts", "s 3"), base_model()["hosts"]["s2"]), ["host name 's 3'", "a space"]),
    ("host-key-dotdot", changed(("hosts", "a..b"), base_model()["hosts"]["s2"]), ["host name 'a..b'", "'..'"]),
    ("vm-key-option", changed(("vms", "--help"), base_model()["vms"]["c"]), ["VM name '--help'", "starts with '-'"]),
    ("vm-key-control", changed(("vms", "a\x1bb"), base_model()["vms"]["c"]), ["control character"]),
    ("drain-nested", changed("maintenance.drain", [["h1"]]), ["maintenance.drain must be a list of host names"]),
    ("drain-unknown", changed("maintenance.drain", ["h1; reboot"]), ["maintenance.drain: unknown host 'h1; reboot'"]),
    ("targets-number", changed("maintenance.targets", 5), ["maintenance.targets must be a list of host names"]),
    ("drain-twice", changed("maintenance.drain", ["h1", "h1"]), ["host 'h1' listed twice"]),
    ("link-name-list", changed("network.links.0.name", ["x"]), ["network.links[0].name must be a link name"]),
    ("link-ends-nested", changed("network.links.0.ends", [["sw1"], "sw2"]), ["ends must name two different"]),
    ("link-hash-list", changed("network.links.0.hash", ["layer2"]), ["hash must be one of layer2, balanced"]),
    ("host-not-mapping", changed("hosts.h1", []), ["hosts.h1 must be a mapping"]),
    ("vms-not-mapping", changed("vms", []), ["vms must be a mapping"]),
    ("model-list", [], ["the model must be a mapping"]),
    ("model-none", None, ["the model must be a mapping"]),
    ("no-hosts", {"hosts": {}}, ["hosts: no host defined"]),
    ("bmc-injection", changed("hosts.h1.bmc", {"address": "10.0.0.1; reboot"}),
     ["hosts.h1.bmc.address", "contains ';'"]),
    ("bmc-user", changed("hosts.h1.bmc", {"address": "10.0.0.1", "user": "$(id)"}),
     ["hosts.h1.bmc.user '$(id)' is not a plain user name"]),
    ("bmc-not-mapping", changed("hosts.h1.bmc", "10.0.0.1"), ["hosts.h1.bmc must be a mapping"]),
    ("mac-list", changed("hosts.h1.mac", ["02:00:00:00:00:01"]), ["hosts.h1.mac", "is not a MAC address"]),
    ("switch-mapping", changed("hosts.h1.switch", {"a": 1}), ["hosts.h1.switch must be a switch name"]),
    ("power-maybe", changed("hosts.h1.power", "maybe"), ["hosts.h1.power must be 'on' or 'off'"]),
    ("efficiency-above-one", changed("network.efficiency", 1.5), ["network.efficiency is the fraction"]),
]


@pytest.mark.parametrize("model, words", [c[1:] for c in MODELS], ids=[c[0] for c in MODELS])
def test_bad_model_is_refused(model, words):
    refused(lambda: parse_model(model), *words)


def test_typo_hint_is_kept_with_the_refusal():
    model = changed("hosts.h1", {"cpu": 8, "memroy_mb": 16384, "switch": "sw1"})
    message, warnings = refused(lambda: parse_model(model), "hosts.h1: missing 'memory_mb'")
    assert any("unknown key 'memroy_mb'" in w and "did you mean 'memory_mb'" in w for w in warnings)


def test_names_operators_use_are_accepted_and_planned():
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.checker import check_plan
    from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.planner import plan_drain
    model = base_model()
    model["hosts"]["hv-01.rack_2.example.org"] = model["hosts"].pop("s2")
    model["vms"]["web_01.prod"] = model["vms"].pop("a")
    model["maintenance"]["targets"] = ["s1", "hv-01.rack_2.example.org"]

    def plan_and_check():
        parsed = parse_model(model)
        plan = plan_drain(parsed, strategy="sequential")
        return [str(v) for v in check_plan(parsed, plan)], sorted(a.vm for a in plan.actions if a.vm)

    violations, moved = accepted(plan_and_check)
    assert violations == [] and moved == ["b", "c", "web_01.prod"]
