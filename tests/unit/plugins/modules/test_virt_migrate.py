"""Unit tests for wavedrain.kvm.virt_migrate with a fake virsh (no libvirt needed)."""
import json
import os
import subprocess
import sys

from ansible_collections.wavedrain.kvm.plugins.module_utils._libvirt import parse_jobinfo
from ansible_collections.wavedrain.kvm.plugins.modules import virt_migrate as M

MODULE = M.__file__

JOBINFO = """Job type:         Completed
Operation:        Incoming migration
Time elapsed:     8632         ms
Data processed:   95.468 MiB
Memory processed: 95.468 MiB
Memory bandwidth: 11.057 MiB/s
Total downtime:   363          ms
Iteration:        8
"""

# fake virsh: domain states per URI come from $FAKE_STATE ({"uri": {"vm": "running"}})
FAKE_VIRSH = r"""#!/usr/bin/env python3
import json, os, sys
state = json.load(open(os.environ["FAKE_STATE"]))
a = [x for x in sys.argv[1:] if x not in ("-q", "--")]
uri, cmd, rest = a[1], a[2], a[3:]
doms = state.get(uri)
if doms is None:
    sys.stderr.write("error: failed to connect to the hypervisor\n"); sys.exit(1)
if cmd == "domstate":
    if rest[0] in doms:
        print(doms[rest[0]]); sys.exit(0)
    sys.stderr.write("error: failed to get domain '%s'\n" % rest[0]); sys.exit(1)
if cmd == "domjobinfo":
    print("Job type:         None"); sys.exit(0)
sys.exit(1)
"""


def run(tmp_path, state, **args):
    virsh = tmp_path / "virsh"
    virsh.write_text(FAKE_VIRSH)
    virsh.chmod(0o755)
    (tmp_path / "state.json").write_text(json.dumps(state))
    params = dict(name="vm1", source_uri="qemu+tcp://src/system", destination_uri="qemu+tcp://dst/system",
                  timeout_s=30, virsh=str(virsh))
    params.update(args)
    (tmp_path / "args.json").write_text(json.dumps({"ANSIBLE_MODULE_ARGS": params}))
    env = dict(os.environ, FAKE_STATE=str(tmp_path / "state.json"),
               PYTHONPATH=os.environ["ANSIBLE_COLLECTIONS_PATH"])  # the module imports module_utils
    r = subprocess.run([sys.executable, MODULE, str(tmp_path / "args.json")], capture_output=True,
                       text=True, env=env, timeout=60, check=False)
    return json.loads(r.stdout)


def test_parse_jobinfo():
    j = parse_jobinfo(JOBINFO)
    assert j["time_elapsed_ms"] == 8632 and j["downtime_ms"] == 363 and j["iterations"] == 8
    assert j["data_processed_mib"] == 95.468 and j["memory_bandwidth_mibs"] == 11.057
    assert j["raw"]["Operation"] == "Incoming migration"


def test_already_on_destination_is_left_alone(tmp_path):
    out = run(tmp_path, {"qemu+tcp://src/system": {}, "qemu+tcp://dst/system": {"vm1": "running"}})
    assert not out.get("failed") and out["changed"] is False and out["outcome"] == "already_done"
    assert out["attempts"] == 0


def test_vm_nowhere_fails(tmp_path):
    out = run(tmp_path, {"qemu+tcp://src/system": {}, "qemu+tcp://dst/system": {}})
    assert out["failed"] and "neither on the source" in out["msg"]


def test_unreachable_source_fails(tmp_path):
    out = run(tmp_path, {"qemu+tcp://dst/system": {}})
    assert out["failed"] and "does not answer" in out["msg"]


def test_check_mode_would_migrate(tmp_path):
    out = run(tmp_path, {"qemu+tcp://src/system": {"vm1": "running"}, "qemu+tcp://dst/system": {}},
              _ansible_check_mode=True)
    assert out["changed"] is True and out["outcome"] == "would_migrate"


def test_every_migration_has_a_timeout(tmp_path):
    out = run(tmp_path, {"qemu+tcp://src/system": {"vm1": "running"}, "qemu+tcp://dst/system": {}},
              timeout_s=0)
    assert out["failed"] and "timeout" in out["msg"]
