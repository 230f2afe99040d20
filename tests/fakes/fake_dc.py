"""A simulated datacenter on disk for the fake virsh and ipmitool of tests/fakes/bin.

Layout under the directory: password (the BMCs' password), hosts/HOST/{power, up (exists while its
libvirt answers), boot_s, halt_s, doms/VM}, durations/VM ("MS SECONDS" a migration of VM takes),
arrives/VM (the state VM takes on its destination, e.g. "shut off", when it is not the one it left).
Built from a plan: the plan's predicted durations, scaled, become the simulated ones.
"""
import os

BIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bin")
PASSWORD = "fake-bmc-secret"


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(str(text) + "\n")


def _ms(a, scale, floor_ms=1):
    if a.get("start_s") is None or a.get("end_s") is None:
        return floor_ms
    return max(floor_ms, int(round((a["end_s"] - a["start_s"]) * scale * 1000)))


def _seconds(ms):
    return "%d.%03d" % (ms // 1000, ms % 1000)


def build(root, plan, scale=0.01, extra_vms=None):
    """Hosts booted by the plan start off, all others on; each migrated VM starts on its source.
    extra_vms: {vm: host} placed as well (e.g. a VM no action moves)."""
    _write(os.path.join(root, "password"), PASSWORD)
    os.makedirs(os.path.join(root, "aborted"), exist_ok=True)
    boots = {a["host"]: a for a in plan["actions"] if a["type"] == "power_on"}
    halts = {a["host"]: a for a in plan["actions"] if a["type"] == "power_off"}
    hosts = {h for a in plan["actions"] for h in (a.get("host"), a.get("source"), a.get("destination")) if h}
    for h in hosts:
        d = os.path.join(root, "hosts", h)
        os.makedirs(os.path.join(d, "doms"), exist_ok=True)
        _write(os.path.join(d, "power"), "off" if h in boots else "on")
        if h not in boots:
            _write(os.path.join(d, "up"), "")
        _write(os.path.join(d, "boot_s"), _seconds(_ms(boots[h], scale) if h in boots else 1))
        _write(os.path.join(d, "halt_s"), _seconds(_ms(halts[h], scale) if h in halts else 1))
    placed = dict(extra_vms or {})
    for a in plan["actions"]:
        if a["type"] == "migrate":
            placed.setdefault(a["vm"], a["source"])
            ms = _ms(a, scale)
            _write(os.path.join(root, "durations", a["vm"]), "%d %s" % (ms, _seconds(ms)))
    for vm, h in placed.items():
        _write(os.path.join(root, "hosts", h, "doms", vm), "running")
    return root


def has_domain(root, host, vm):
    """Whether the simulated host has the domain (the fake virsh empties a file it moves away)."""
    path = os.path.join(root, "hosts", host, "doms", vm)
    return os.path.exists(path) and os.path.getsize(path) > 0


def env(root):
    return dict(os.environ, WAVEDRAIN_FAKE_DC=root, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))


def hostvars(plan, uri="qemu+tcp://%s/system"):
    """Inventory variables for every host of the plan, as the maintenance playbook reads them."""
    hosts = {h for a in plan["actions"] for h in (a.get("host"), a.get("source"), a.get("destination")) if h}
    return {h: {"wavedrain_libvirt_uri": uri % h, "wavedrain_bmc_address": h, "wavedrain_bmc_user": "admin",
                "wavedrain_bmc_password": PASSWORD} for h in hosts}
