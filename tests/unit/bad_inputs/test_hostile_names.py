"""A hostile name is refused at every input boundary, and nothing it holds ever runs."""
import copy
import os

import pytest

from ansible_collections.wavedrain.kvm.plugins.filter.model_from_inventory import model_from_inventory
from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import load_document
from ansible_collections.wavedrain.kvm.plugins.module_utils._names import (
    bmc_address_problem, host_name_problem, libvirt_uri_problem, vm_name_problem)
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import plan_from_dict

from catalogue import HOSTILE_NAMES, base_model, changed, refused
from test_bad_inventories import HOSTS, inventory
from test_bad_options import module_output


def _renamed_host(model, old, new):
    model = copy.deepcopy(model)
    model["hosts"][new] = model["hosts"].pop(old)
    for vm in model["vms"].values():
        if vm["host"] == old:
            vm["host"] = new
    model["maintenance"] = {k: [new if h == old else h for h in v] for k, v in model["maintenance"].items()}
    return model


def _boundaries(name):
    """(where, action) for every boundary this name can enter through."""
    vm_renamed = copy.deepcopy(base_model())
    vm_renamed["vms"][name] = vm_renamed["vms"].pop("a")
    halt = {"id": "halt/h1", "type": "power_off", "host": name, "wave": 1, "after": []}
    move = {"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s2", "wave": 1}
    hostvars = inventory()
    hostvars[name] = copy.deepcopy(hostvars["h4"])
    facts = inventory()
    facts["h1"]["wavedrain_facts"]["domains"][0]["name"] = name
    bmc = inventory()
    bmc["h2"]["wavedrain_bmc_address"] = name
    yaml_text = "hosts:\n  '%s': {cpu: 8, memory_mb: 1024}\n" % name.replace("'", "''").replace("\n", " ")
    return [
        ("model host key", lambda: parse_model(_renamed_host(base_model(), "h1", name))),
        ("model VM key", lambda: parse_model(vm_renamed)),
        ("model vm.host", lambda: parse_model(changed("vms.a.host", name))),
        ("model vm.destination", lambda: parse_model(changed("vms.a.destination", name))),
        ("model drain list", lambda: parse_model(changed("maintenance.drain", [name]))),
        ("model BMC address", lambda: parse_model(changed("hosts.h1.bmc", {"address": name}))),
        ("model file", lambda: parse_model(load_document(yaml_text, "dc.yml"))),
        ("plan host", lambda: plan_from_dict({"version": 1, "actions": [halt]})),
        ("plan vm", lambda: plan_from_dict({"version": 1, "actions": [dict(move, vm=name)]})),
        ("plan source", lambda: plan_from_dict({"version": 1, "actions": [dict(move, source=name)]})),
        ("plan destination", lambda: plan_from_dict({"version": 1, "actions": [dict(move, destination=name)]})),
        ("inventory host", lambda: model_from_inventory(hostvars, HOSTS + [name], ["h1"])),
        ("inventory drain", lambda: model_from_inventory(inventory(), HOSTS, [name])),
        ("inventory targets", lambda: model_from_inventory(inventory(), HOSTS, ["h1"], targets=[name])),
        ("facts domain name", lambda: model_from_inventory(facts, HOSTS, ["h1"])),
        ("inventory BMC address", lambda: model_from_inventory(bmc, HOSTS, ["h1"])),
    ]


@pytest.mark.parametrize("template", HOSTILE_NAMES)
def test_hostile_name_is_refused_everywhere_and_runs_nothing(tmp_path, template):
    marker = tmp_path / "marker"
    name = template.format(marker=marker)
    for check in (host_name_problem, vm_name_problem, bmc_address_problem):
        assert check(name) is not None
    assert libvirt_uri_problem("qemu+ssh://%s/system" % name) is not None
    for where, action in _boundaries(name):
        message, dummy = refused(action)
        assert message, where
    out = module_output({"model": _renamed_host(base_model(), "h1", name), "strategy": "sequential"})
    assert out.get("failed") is True and "host name" in out["msg"]
    assert not os.path.exists(marker), "the hostile name ran a command"
