"""Local test datacenter for wavedrain.kvm (issue 6).

Hosts are network namespaces running a private libvirtd (--listen, tcp, no auth)
and sshd; switches are namespaces with a bridge that also route between each other
over N parallel shaped veth pairs (a bundle with layer2 hashing done by policy
routing); each host has an ipmi_sim BMC in its own namespace whose chassis_control
program starts/stops the host's processes.  See /work/shared/docs/testbed.md.

Used by the `testbed` command and importable by the integration tests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CONFIG = os.path.join(HERE, "testbed.yml")
DEFAULT_STATE_DIR = "/run/wavedrain-testbed"
MIB = 1.048576  # MB per MiB: the model counts MB (10^6 bytes), libvirt reports MiB

APT_PACKAGES = [
    "libvirt-daemon-system", "libvirt-clients", "qemu-system-x86", "openipmi",
    "ipmitool", "openssh-server", "openssh-client", "linux-image-cloud-amd64",
    "gcc", "libc6-dev", "python3-libvirt", "python3-lxml", "iproute2", "iperf3",
    "cpio",
]

LIBVIRT_DIRS = [  # (name in host data dir, mount point)
    ("etc-libvirt", "/etc/libvirt"),
    ("var-lib-libvirt", "/var/lib/libvirt"),
    ("var-log-libvirt", "/var/log/libvirt"),
    ("var-cache-libvirt", "/var/cache/libvirt"),
]


def log(msg):
    print(f"[testbed {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def run(cmd, check=True, capture=True, timeout=120, ns=None, **kw):
    if isinstance(cmd, str):
        cmd = cmd.split()
    if ns:
        cmd = ["ip", "netns", "exec", ns] + list(cmd)
    r = subprocess.run(cmd, stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None, text=True,
                       timeout=timeout, check=False, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"command failed ({r.returncode}): {' '.join(cmd)}\n{r.stdout}\n{r.stderr}")
    return r


# --------------------------------------------------------------------------- config

def load_config(path=None):
    import yaml  # only needed when reading the YAML config

    path = os.path.abspath(path or DEFAULT_CONFIG)
    with open(path) as f:
        raw = _onoff(yaml.safe_load(f))
    return resolve_config(raw, path)


def _onoff(x):
    """YAML 1.1 reads on/off as booleans: turn them back into "on"/"off"."""
    if isinstance(x, dict):
        return {({True: "on", False: "off"}.get(k, k) if isinstance(k, bool) else k): _onoff(v)
                for k, v in x.items()}
    if isinstance(x, list):
        return [_onoff(v) for v in x]
    if isinstance(x, bool):
        return "on" if x else "off"
    return x


def resolve_config(raw, path="<dict>"):
    c = dict(raw)
    c["config_path"] = path
    c.setdefault("prefix", "wdtb")
    c.setdefault("state_dir", DEFAULT_STATE_DIR)
    c.setdefault("data_dir", "/var/lib/wavedrain-testbed")
    c.setdefault("net", "10.77")
    c.setdefault("domain_type", "auto")
    c.setdefault("bmc", {"user": "admin", "password": "wavedrain"})
    c.setdefault("links", [])
    c.setdefault("guests", {})
    p = c["prefix"]
    net = c["net"]
    sw_index = {s: i + 1 for i, s in enumerate(c["switches"])}
    switches = {}
    for s, i in sw_index.items():
        switches[s] = {
            "name": s, "index": i, "ns": f"{p}-{s}", "subnet": f"{net}.{i}.0/24",
            "gw": f"{net}.{i}.1", "mgmt_root_ip": f"{net}.250.{4 * i + 1}",
            "mgmt_sw_ip": f"{net}.250.{4 * i + 2}", "mgmt_root_if": f"{p}-m-{s}"[:15],
        }
    c["switches"] = switches
    defaults = c.get("host_defaults", {})
    hosts = {}
    for n, (name, h) in enumerate(c["hosts"].items(), start=1):
        hh = dict(defaults)
        hh.update(h or {})
        sw = switches[hh["switch"]]
        hh["name"] = name
        hh["index"] = n
        hh["ns"] = f"{p}-{name}"
        hh["bmc_ns"] = f"{p}-bmc-{name}"
        hh["ip"] = f"{net}.{sw['index']}.{10 + n}"
        hh["bmc_ip"] = f"{net}.{sw['index']}.{100 + n}"
        hh["power"] = "on" if hh.get("power", "on") in (True, "on") else "off"
        hh.setdefault("mac", f"02:77:00:00:00:{n:02x}")
        hh["mac"] = hh["mac"].lower()
        hh["libvirt_uri"] = f"qemu+tcp://{hh['ip']}/system"
        hh["host_uuid"] = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{p}.{name}.wavedrain"))
        hh["sw_port"] = f"p-{name}"[:15]
        hh["sw_bmc_port"] = f"b-{name}"[:15]
        hosts[name] = hh
    c["hosts"] = hosts
    links = []
    for li, l in enumerate(c["links"]):
        l = dict(l)
        l.setdefault("name", f"{l['ends'][0]}-{l['ends'][1]}")
        l.setdefault("members", 1)
        l.setdefault("hash", "layer2")
        l["index"] = li
        mem = []
        for k in range(l["members"]):
            base = 4 * (li * 16 + k)
            mem.append({
                "k": k, "table": 100 + li * 16 + k,
                "if_a": f"l{li}m{k}", "if_b": f"l{li}m{k}",
                "ip_a": f"{net}.200.{base + 1}", "ip_b": f"{net}.200.{base + 2}",
            })
        l["member_list"] = mem
        links.append(l)
    c["links"] = links
    c["data_dir"] = os.path.abspath(c["data_dir"])
    c["inventory"] = os.path.join(c["data_dir"], "inventory.yml")
    c["model"] = os.path.join(c["data_dir"], "model.yml")
    c["ssh_key"] = os.path.join(c["data_dir"], "ssh", "id_ed25519")
    c["guest_dir"] = os.path.join(c["data_dir"], "guest")
    h = hashlib.sha256(json.dumps(raw, sort_keys=True, default=str).encode()).hexdigest()
    c["config_hash"] = h[:16]
    return c


def status_file(state_dir=DEFAULT_STATE_DIR):
    return os.path.join(state_dir, "status.json")


def load_state(state_dir=DEFAULT_STATE_DIR):
    try:
        with open(status_file(state_dir)) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def save_state(c, **extra):
    os.makedirs(c["state_dir"], exist_ok=True)
    st = load_state(c["state_dir"]) or {}
    st.update(extra)
    st["config"] = c
    tmp = status_file(c["state_dir"]) + ".tmp"
    with open(tmp, "w") as f:
        json.dump(st, f, indent=1)
    os.replace(tmp, status_file(c["state_dir"]))
    return st


def member_for(c, link, src, dst):
    """Layer2 hash: (last byte of src MAC XOR last byte of dst MAC) mod members."""
    a = int(c["hosts"][src]["mac"].split(":")[-1], 16)
    b = int(c["hosts"][dst]["mac"].split(":")[-1], 16)
    return (a ^ b) % link["members"]


def link_between(c, sw_a, sw_b):
    for l in c["links"]:
        if set(l["ends"]) == {sw_a, sw_b}:
            return l
    return None


# --------------------------------------------------------------------------- packages

def ensure_packages():
    missing = []
    for p in APT_PACKAGES:
        r = run(["dpkg-query", "-W", "-f=${Status}", p], check=False)
        if "install ok installed" not in r.stdout:
            missing.append(p)
    if not missing:
        return
    log(f"apt-get install {' '.join(missing)}")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    r = run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
            check=False, timeout=900, env=env)
    if r.returncode != 0:
        run(["apt-get", "update", "-q"], timeout=600, env=env)
        run(["apt-get", "install", "-y", "-q", "--no-install-recommends"] + missing,
            timeout=900, env=env)


# --------------------------------------------------------------------------- processes

def ns_list():
    r = run(["ip", "netns", "list"], check=False)
    return [line.split()[0] for line in r.stdout.splitlines() if line.strip()]


def ns_pids(ns):
    r = run(["ip", "netns", "pids", ns], check=False)
    return [int(x) for x in r.stdout.split() if x.isdigit()]


def kill_pids(pids, grace=5.0):
    pids = [p for p in pids if p != os.getpid()]
    for p in pids:
        try:
            os.kill(p, signal.SIGTERM)
        except ProcessLookupError:
            pass
    end = time.time() + grace
    while time.time() < end:
        alive = [p for p in pids if _alive(p)]
        if not alive:
            return
        time.sleep(0.05)
    for p in pids:
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    end = time.time() + 3
    while time.time() < end and any(_alive(p) for p in pids):
        time.sleep(0.05)


def _alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --------------------------------------------------------------------------- network

def tbf(ns, dev, mbps):
    rate_bytes = mbps * 1e6 / 8
    burst = max(int(rate_bytes / 100), 16000)  # 10 ms worth, >= a few MTUs
    run(["tc", "qdisc", "replace", "dev", dev, "root", "tbf", "rate", f"{mbps}mbit",
         "burst", str(burst), "latency", "40ms"], ns=ns)


def sysctl(ns, key, val):
    run(["sysctl", "-q", "-w", f"{key}={val}"], ns=ns)


def build_network(c):
    for s in c["switches"].values():
        ns = s["ns"]
        run(["ip", "netns", "add", ns])
        run("ip link set lo up", ns=ns)
        sysctl(ns, "net.ipv4.ip_forward", 1)
        sysctl(ns, "net.ipv4.conf.all.rp_filter", 0)
        sysctl(ns, "net.ipv4.conf.default.rp_filter", 0)
        run("ip link add br0 type bridge", ns=ns)
        run(["ip", "addr", "add", f"{s['gw']}/24", "dev", "br0"], ns=ns)
        run("ip link set br0 up", ns=ns)
        # management link controller (root namespace) <-> switch
        run(["ip", "link", "add", s["mgmt_root_if"], "type", "veth", "peer", "name", "mgmt",
             "netns", ns])
        run(["ip", "addr", "add", f"{s['mgmt_root_ip']}/30", "dev", s["mgmt_root_if"]])
        run(["ip", "link", "set", s["mgmt_root_if"], "up"])
        run(["ip", "addr", "add", f"{s['mgmt_sw_ip']}/30", "dev", "mgmt"], ns=ns)
        run("ip link set mgmt up", ns=ns)
        run(["ip", "route", "add", s["subnet"], "via", s["mgmt_sw_ip"]])
        run(["ip", "route", "add", f"{c['net']}.250.0/24", "via", s["mgmt_root_ip"]], ns=ns)
    for h in c["hosts"].values():
        s = c["switches"][h["switch"]]
        for kind in ("host", "bmc"):
            ns = h["ns"] if kind == "host" else h["bmc_ns"]
            port = h["sw_port"] if kind == "host" else h["sw_bmc_port"]
            ip = h["ip"] if kind == "host" else h["bmc_ip"]
            run(["ip", "netns", "add", ns])
            run("ip link set lo up", ns=ns)
            run(["ip", "link", "add", "eth0", "netns", ns, "type", "veth", "peer", "name",
                 port, "netns", s["ns"]])
            if kind == "host":
                run(["ip", "link", "set", "eth0", "address", h["mac"]], ns=ns)
            run(["ip", "addr", "add", f"{ip}/24", "dev", "eth0"], ns=ns)
            run("ip link set eth0 up", ns=ns)
            run(["ip", "route", "add", "default", "via", s["gw"]], ns=ns)
            run(["ip", "link", "set", port, "master", "br0", "up"], ns=s["ns"])
            if kind == "host":
                tbf(ns, "eth0", h["nic_mbps"])
                tbf(s["ns"], port, h["nic_mbps"])
    for l in c["links"]:
        a, b = (c["switches"][e] for e in l["ends"])
        for m in l["member_list"]:
            run(["ip", "link", "add", m["if_a"], "netns", a["ns"], "type", "veth", "peer",
                 "name", m["if_b"], "netns", b["ns"]])
            run(["ip", "addr", "add", f"{m['ip_a']}/30", "dev", m["if_a"]], ns=a["ns"])
            run(["ip", "addr", "add", f"{m['ip_b']}/30", "dev", m["if_b"]], ns=b["ns"])
            for sw, dev in ((a, m["if_a"]), (b, m["if_b"])):
                run(["ip", "link", "set", dev, "up"], ns=sw["ns"])
                sysctl(sw["ns"], f"net.ipv4.conf.{dev}.rp_filter", 0)
                tbf(sw["ns"], dev, l["member_mbps"])
            # one routing table per member, both directions
            run(["ip", "route", "add", b["subnet"], "via", m["ip_b"], "table", str(m["table"])],
                ns=a["ns"])
            run(["ip", "route", "add", a["subnet"], "via", m["ip_a"], "table", str(m["table"])],
                ns=b["ns"])
        m0 = l["member_list"][0]
        run(["ip", "route", "add", b["subnet"], "via", m0["ip_b"]], ns=a["ns"])
        run(["ip", "route", "add", a["subnet"], "via", m0["ip_a"]], ns=b["ns"])
        # per host pair policy rules: layer2 hash, same member both ways
        for ha in c["hosts"].values():
            for hb in c["hosts"].values():
                if ha["switch"] != a["name"] or hb["switch"] != b["name"]:
                    continue
                k = member_for(c, l, ha["name"], hb["name"])
                t = str(l["member_list"][k]["table"])
                run(["ip", "rule", "add", "from", ha["ip"], "to", hb["ip"], "table", t,
                     "pref", "1000"], ns=a["ns"])
                run(["ip", "rule", "add", "from", hb["ip"], "to", ha["ip"], "table", t,
                     "pref", "1000"], ns=b["ns"])
    for s in c["switches"].values():
        for dev in run("ip -o link show", ns=s["ns"]).stdout.split("\n"):
            m = re.match(r"\d+: ([^:@]+)", dev)
            if m:
                sysctl(s["ns"], f"net.ipv4.conf.{m.group(1)}.rp_filter", 0)


def shape_host(c, host, mbps):
    """Reshape a host NIC (both directions)."""
    h = c["hosts"][host]
    tbf(h["ns"], "eth0", mbps)
    tbf(c["switches"][h["switch"]]["ns"], h["sw_port"], mbps)


def shape_link(c, link_name, mbps):
    for l in c["links"]:
        if l["name"] == link_name:
            a, b = (c["switches"][e] for e in l["ends"])
            for m in l["member_list"]:
                tbf(a["ns"], m["if_a"], mbps)
                tbf(b["ns"], m["if_b"], mbps)
            return
    raise KeyError(link_name)


# --------------------------------------------------------------------------- hosts

def host_dir(c, name):
    return os.path.join(c["data_dir"], "hosts", name)


def _sub(text, key, value):
    """Set `key = value` in a libvirt style config file text."""
    line = f"{key} = {value}"
    pat = re.compile(rf"^#?\s*{re.escape(key)}\s*=.*$", re.M)
    if pat.search(text):
        return pat.sub(lambda _m: line, text, count=1)
    return text + "\n" + line + "\n"


def write_name_files(c):
    with open(os.path.join(c["data_dir"], "etc-hosts"), "w") as f:
        f.write("127.0.0.1 localhost\n::1 localhost\n")
        for h in c["hosts"].values():
            f.write(f"{h['ip']} {h['name']}\n")
    with open(os.path.join(c["data_dir"], "resolv.conf"), "w") as f:
        f.write("# testbed hosts: no DNS server (names come from /etc/hosts)\noptions timeout:1 attempts:1\n")


def prepare_host_files(c, h):
    d = host_dir(c, h["name"])
    os.makedirs(d, exist_ok=True)
    for name, src in LIBVIRT_DIRS:
        dst = os.path.join(d, name)
        if name == "etc-libvirt":
            shutil.copytree(src, dst, symlinks=True)
        else:
            os.makedirs(dst, exist_ok=True)
    etc = os.path.join(d, "etc-libvirt")
    for f in ("qemu/networks/autostart/default.xml", "qemu/networks/default.xml"):
        try:
            os.unlink(os.path.join(etc, f))
        except FileNotFoundError:
            pass
    for sub in ("qemu", "qemu/autostart"):
        os.makedirs(os.path.join(etc, sub), exist_ok=True)
    for f in os.listdir(os.path.join(etc, "qemu")):
        if f.endswith(".xml"):
            os.unlink(os.path.join(etc, "qemu", f))
    conf = os.path.join(etc, "libvirtd.conf")
    t = open(conf).read()
    for k, v in [("listen_tls", "0"), ("listen_tcp", "1"), ("auth_tcp", '"none"'),
                 ("listen_addr", f'"{h["ip"]}"'), ("host_uuid", f'"{h["host_uuid"]}"'),
                 ("log_outputs", '"3:file:/var/log/libvirt/libvirtd.log"'),
                 ("keepalive_interval", "5"), ("max_clients", "100")]:
        t = _sub(t, k, v)
    open(conf, "w").write(t)
    qconf = os.path.join(etc, "qemu.conf")
    t = open(qconf).read()
    for k, v in [("security_driver", '"none"'), ("cgroup_controllers", "[ ]"),
                 ("namespaces", "[ ]"), ("stdio_handler", '"file"'),
                 ("migration_address", f'"{h["ip"]}"'), ("migration_host", f'"{h["ip"]}"'),
                 ("user", '"root"'), ("group", '"root"'), ("dynamic_ownership", "0"),
                 ("remember_owner", "0")]:
        t = _sub(t, k, v)
    open(qconf, "w").write(t)
    # sshd with its own host key
    key = os.path.join(d, "ssh_host_ed25519_key")
    if not os.path.exists(key):
        run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key])
    with open(os.path.join(d, "sshd_config"), "w") as f:
        f.write(f"""ListenAddress {h['ip']}
HostKey {key}
PidFile {d}/sshd.pid
PermitRootLogin prohibit-password
AuthorizedKeysFile {c['data_dir']}/ssh/authorized_keys
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
UseDNS no
PrintMotd no
Subsystem sftp /usr/lib/openssh/sftp-server
AcceptEnv LANG LC_*
MaxStartups 50:30:100
MaxSessions 50
""")
    # BMC: ipmi_sim config, emu file, chassis_control wrapper
    bd = os.path.join(d, "bmc")
    os.makedirs(os.path.join(bd, "state"), exist_ok=True)
    cc = os.path.join(bd, "chassis_control")
    with open(cc, "w") as f:
        f.write(f"""#!/bin/sh
# ipmi_sim chassis_control for {h['name']}: $1 = mc address, then get/set ...
shift
exec {sys.executable} {os.path.join(HERE, 'testbed')} --state-dir {c['state_dir']} _chassis {h['name']} "$@"
""")
    os.chmod(cc, 0o755)
    guid = hashlib.md5(h["name"].encode()).hexdigest()
    b = c["bmc"]
    with open(os.path.join(bd, "lan.conf"), "w") as f:
        f.write(f"""name "{h['name']}"
set_working_mc 0x20
  startlan 1
    addr {h['bmc_ip']} 623
    priv_limit admin
    allowed_auths_callback none md2 md5 straight
    allowed_auths_user none md2 md5 straight
    allowed_auths_operator none md2 md5 straight
    allowed_auths_admin none md2 md5 straight
    guid {guid}
  endlan
  chassis_control "{cc} 0x20"
  user 1 false "" "test" user 10 none md2 md5 straight
  user 2 true "{b['user']}" "{b['password']}" admin 10 none md2 md5 straight
""")
    with open(os.path.join(bd, "sim.emu"), "w") as f:
        f.write("""mc_setbmc 0x20
mc_add 0x20 0 no-device-sdrs 0x23 9 8 0x9f 0x1291 0xf02 persist_sdr
sel_enable 0x20 1000 0x0a
mc_enable 0x20
""")


def seed_caps_cache(c, probe_host):
    """Probe QEMU capabilities once (on probe_host) and give every host the cache, so
    that four libvirtds do not each spend seconds of TCG probing on 2 cores."""
    if not probe_host:
        return
    t0 = time.time()
    virsh(c, probe_host, "domcapabilities", "--virttype", "qemu", timeout=180)
    src = os.path.join(host_dir(c, probe_host), "var-cache-libvirt", "qemu", "capabilities")
    for n in c["hosts"]:
        if n == probe_host:
            continue
        dst = os.path.join(host_dir(c, n), "var-cache-libvirt", "qemu", "capabilities")
        os.makedirs(dst, exist_ok=True)
        for f in os.listdir(src):
            shutil.copy2(os.path.join(src, f), os.path.join(dst, f))
    log(f"qemu capabilities probed in {time.time() - t0:.1f} s and shared")


def host_running(c, name):
    return bool(ns_pids(c["hosts"][name]["ns"]))


def host_start(c, name):
    """Power on: libvirtd + sshd in the host's namespaces (returns at once)."""
    h = c["hosts"][name]
    d = host_dir(c, name)
    if host_running(c, name):
        return
    mounts = "\n".join(f"mount --bind {os.path.join(d, n)} {mp}" for n, mp in LIBVIRT_DIRS)
    # name resolution must never wait for a DNS server the host cannot reach
    mounts += f"\nmount --bind {c['data_dir']}/etc-hosts /etc/hosts"
    mounts += f"\nmount --bind {c['data_dir']}/resolv.conf /etc/resolv.conf"
    script = f"""set -e
hostname {name}
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /run/sshd /run/libvirt /run/lock
{mounts}
rm -f {d}/libvirtd.pid {d}/sshd.pid
/usr/sbin/libvirtd -d --listen -p {d}/libvirtd.pid
/usr/sbin/sshd -f {d}/sshd_config -E {d}/sshd.log
"""
    with open(os.path.join(d, "power.log"), "a") as lf:
        lf.write(f"--- power on {time.ctime()}\n")
        lf.flush()
        subprocess.run(["ip", "netns", "exec", h["ns"], "unshare", "--mount", "--uts",
                        "--propagation", "private", "sh", "-c", script],
                       stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, start_new_session=True,
                       timeout=60, check=True)


def host_stop(c, name, grace=10.0):
    """Power off: end every process of the host (its namespace)."""
    kill_pids(ns_pids(c["hosts"][name]["ns"]), grace=grace)


def libvirt_answers(c, name, timeout=5):
    try:
        r = run(["virsh", "-c", c["hosts"][name]["libvirt_uri"], "uri"], check=False,
                timeout=timeout)
        return r.returncode == 0
    except subprocess.TimeoutExpired:
        return False


def wait_libvirt(c, name, up=True, timeout=60):
    end = time.time() + timeout
    while time.time() < end:
        if libvirt_answers(c, name, timeout=3) == up:
            return True
        time.sleep(0.1)
    return False


def bmc_start(c, name):
    h = c["hosts"][name]
    bd = os.path.join(host_dir(c, name), "bmc")
    lf = open(os.path.join(bd, "ipmi_sim.log"), "a")
    p = subprocess.Popen(["ip", "netns", "exec", h["bmc_ns"], "ipmi_sim", "-c",
                          os.path.join(bd, "lan.conf"), "-f", os.path.join(bd, "sim.emu"),
                          "-n", "-s", os.path.join(bd, "state")],
                         stdin=subprocess.DEVNULL, stdout=lf, stderr=lf, start_new_session=True)
    return p.pid


def ipmi(c, name, *args, timeout=30):
    h = c["hosts"][name]
    b = c["bmc"]
    return run(["ipmitool", "-I", "lanplus", "-C", "3", "-H", h["bmc_ip"], "-U", b["user"],
                "-P", b["password"]] + list(args), check=False, timeout=timeout)


def chassis(state_dir, name, args):
    """chassis_control program called by ipmi_sim: get power | set power 0/1 ..."""
    st = load_state(state_dir)
    if not st:
        print("testbed state missing", file=sys.stdout)
        return 1
    c = st["config"]
    flag = os.path.join(c["state_dir"], f"power-{name}")
    op, rest = args[0], args[1:]
    if op == "get":
        out = []
        for parm in rest:
            if parm == "power":
                on = host_running(c, name)
                if not on and os.path.exists(flag):
                    # booting: a real BMC reports on as soon as power is applied
                    on = time.time() - os.path.getmtime(flag) < 20
                out.append(f"power:{1 if on else 0}")
            elif parm == "boot":
                out.append("boot:default")
        print("\n".join(out))
        return 0
    if op == "set":
        while len(rest) >= 2:
            parm, val = rest[0], rest[1]
            rest = rest[2:]
            # "shutdown 1" is a soft-off (ipmitool chassis power soft): the OS halts, then power drops
            if parm == "power" or (parm == "shutdown" and val == "1"):
                if parm == "power" and val == "1":
                    open(flag, "w").close()
                    action = "on"
                else:
                    if os.path.exists(flag):
                        os.unlink(flag)
                    action = "off"
                # detach: ipmi_sim must not wait for the host to boot or stop
                lf = open(os.path.join(host_dir(c, name), "power.log"), "a")
                subprocess.Popen([sys.executable, os.path.join(HERE, "testbed"), "--state-dir",
                                  c["state_dir"], "_power", name, action],
                                 stdin=subprocess.DEVNULL, stdout=lf, stderr=lf,
                                 start_new_session=True, close_fds=True)
            elif parm == "reset" and val == "1":
                pass
        return 0
    return 1


def power(c, name, action):
    """What the BMC does (detached from ipmi_sim).  Optional host settings
    boot_delay_s / shutdown_delay_s emulate firmware POST / OS shutdown time."""
    h = c["hosts"][name]
    if action == "on":
        time.sleep(float(h.get("boot_delay_s", 0)))
        host_start(c, name)
    else:
        time.sleep(float(h.get("shutdown_delay_s", 0)))
        host_stop(c, name)


# --------------------------------------------------------------------------- guests

def build_guest_image(c):
    g = c["guest_dir"]
    os.makedirs(g, exist_ok=True)
    kernels = sorted(f for f in os.listdir("/boot") if re.match(r"vmlinuz-.*-cloud-amd64$", f))
    if not kernels:
        raise RuntimeError("no /boot/vmlinuz-*-cloud-amd64 (linux-image-cloud-amd64)")
    shutil.copy(os.path.join("/boot", kernels[-1]), os.path.join(g, "vmlinuz"))
    root = os.path.join(g, "root")
    os.makedirs(os.path.join(root, "dev"), exist_ok=True)
    run(["gcc", "-static", "-O2", "-o", os.path.join(root, "init"),
         os.path.join(HERE, "guest_init.c")])
    if not os.path.exists(os.path.join(root, "dev", "console")):
        os.mknod(os.path.join(root, "dev", "console"), 0o600 | 0o020000, os.makedev(5, 1))
    initrd = os.path.join(g, "initrd.gz")
    subprocess.run(f"cd {root} && find . | cpio -o -H newc --quiet | gzip -1 > {initrd}",
                   shell=True, check=True)


def kvm_works(c):
    if c["domain_type"] in ("qemu", "kvm"):
        return c["domain_type"] == "kvm"
    flags = open("/proc/cpuinfo").read()
    if not os.path.exists("/dev/kvm") or not re.search(r"\b(vmx|svm)\b", flags):
        return False
    g = c["guest_dir"]
    ser = os.path.join(g, "kvm-probe.log")
    try:
        subprocess.run(["qemu-system-x86_64", "-enable-kvm", "-m", "128", "-display", "none",
                        "-serial", f"file:{ser}", "-no-reboot", "-kernel",
                        os.path.join(g, "vmlinuz"), "-initrd", os.path.join(g, "initrd.gz"),
                        "-append", "console=ttyS0 pti=on quiet panic=-1 wd.touch=1"],
                       timeout=15, capture_output=True, check=False)
    except subprocess.TimeoutExpired:
        pass
    return "wd-tick" in open(ser).read() if os.path.exists(ser) else False


def serial_log(c, vm):
    return os.path.join(c["data_dir"], "guests", f"{vm}.serial.log")


def domain_xml(c, vm, g, dtype):
    gd = c["guest_dir"]
    u = uuid.uuid5(uuid.NAMESPACE_DNS, f"{c['prefix']}.{vm}.guest")
    cmd = (f"console=ttyS0 pti=on quiet panic=-1 wd.touch={g['touch_mb']} "
           f"wd.rate={g['dirty_mb_s']} wd.name={vm}")
    return f"""<domain type='{dtype}'>
  <name>{vm}</name>
  <uuid>{u}</uuid>
  <memory unit='MiB'>{g['memory_mb']}</memory>
  <vcpu>{g.get('cpu', 1)}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{gd}/vmlinuz</kernel>
    <initrd>{gd}/initrd.gz</initrd>
    <cmdline>{cmd}</cmdline>
  </os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='{serial_log(c, vm)}' append='on'/>
      <target port='0'/>
    </serial>
    <memballoon model='none'/>
  </devices>
</domain>
"""


def virsh(c, host, *args, timeout=60, check=True):
    return run(["virsh", "-c", c["hosts"][host]["libvirt_uri"]] + list(args), check=check,
               timeout=timeout)


def guest_ticks(c, vm):
    """Last tick counter printed by the guest (-1 if none)."""
    try:
        with open(serial_log(c, vm), "rb") as f:
            f.seek(0, 2)
            size = f.tell()
            f.seek(max(0, size - 4096))
            data = f.read().decode(errors="replace")
    except OSError:
        return -1
    ticks = re.findall(rf"wd-tick {re.escape(vm)} (\d+) ", data)
    return int(ticks[-1]) if ticks else -1


def guest_alive(c, vm, wait=3.0):
    """True when the guest's serial counter advances within `wait` seconds."""
    t0 = guest_ticks(c, vm)
    end = time.time() + wait
    while time.time() < end:
        time.sleep(0.25)
        if guest_ticks(c, vm) > t0:
            return True
    return False


def guest_mem(c, vm):
    try:
        data = open(serial_log(c, vm), errors="replace").read()
    except OSError:
        return None
    m = re.findall(r"wd-mem \S+ total_kb=(\d+) free_kb=(\d+)", data)
    return (int(m[-1][0]), int(m[-1][1])) if m else None


def find_guest(c, vm):
    """Host where the guest currently runs (None if nowhere)."""
    for name in c["hosts"]:
        if not host_running(c, name):
            continue
        r = virsh(c, name, "domstate", vm, check=False, timeout=10)
        if r.returncode == 0 and "running" in r.stdout:
            return name
    return None


def migrate(c, vm, src, dst, timeout_s=60, extra=()):
    """Live-migrate like the roles do; returns dict(duration wall s, jobinfo)."""
    d = c["hosts"][dst]
    t0 = time.time()
    r = virsh(c, src, "migrate", "--live", "--persistent", "--undefinesource", "--verbose",
              "--timeout", str(timeout_s), *extra, vm, d["libvirt_uri"], "--migrateuri",
              f"tcp://{d['ip']}", timeout=timeout_s + 120, check=False)
    wall = time.time() - t0
    if r.returncode != 0:
        raise RuntimeError(f"migration {vm} {src}->{dst} failed: {r.stdout} {r.stderr}")
    info = {}
    ji = virsh(c, dst, "domjobinfo", vm, "--completed", check=False)
    for line in ji.stdout.splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            info[k.strip()] = v.strip()
    res = {"wall_s": wall, "jobinfo": info}
    te = info.get("Time elapsed", "")
    if te.endswith("ms"):
        res["duration_s"] = float(te.split()[0]) / 1000
    else:
        res["duration_s"] = wall
    return res


def measure_guests(c):
    """used_mb: what a migration really transfers (one unshaped migration to a peer on
    the same switch and back, "Memory processed"); dirty_mb_s: virsh domdirtyrate-calc."""
    used, dirty, setups = {}, {}, []
    for vm, g in c["guests"].items():
        virsh(c, g["host"], "domdirtyrate-calc", vm, "--seconds", "2", check=False)
    time.sleep(2.5)
    for vm, g in c["guests"].items():
        r = virsh(c, g["host"], "domstats", vm, "--dirtyrate", check=False)
        m = re.search(r"dirtyrate.megabytes_per_second=(\d+)", r.stdout)
        if m:
            dirty[vm] = round(int(m.group(1)) * MIB, 2)
    for vm, g in c["guests"].items():
        src = g["host"]
        peers = [n for n, h in c["hosts"].items() if n != src and h["power"] == "on"
                 and h["switch"] == c["hosts"][src]["switch"]]
        if not peers:
            continue
        peer = peers[0]
        try:
            for n in (src, peer):
                shape_host(c, n, 10000)
            r = migrate(c, vm, src, peer, timeout_s=60)
            back = migrate(c, vm, peer, src, timeout_s=60)
            # what virsh takes beyond libvirt's own job time: destination start, handshake
            setups += [m["wall_s"] - m["duration_s"] for m in (r, back) if m["duration_s"] != m["wall_s"]]
        finally:
            for n in (src, peer):
                shape_host(c, n, c["hosts"][n]["nic_mbps"])
        mp = r["jobinfo"].get("Memory processed", "")
        m = re.match(r"([\d.]+) (KiB|MiB|GiB)", mp)
        if m:
            f = {"KiB": 1 / 1024, "MiB": 1, "GiB": 1024}[m.group(2)]
            used[vm] = round(float(m.group(1)) * f * MIB, 1)
    setup_s = round(sorted(setups)[len(setups) // 2], 2) if setups else 0.0
    log(f"measured used_mb={used} dirty_mb_s={dirty} migration_setup_s={setup_s}")
    return {"used_mb": used, "dirtyrate_calc_mb_s": dirty, "migration_setup_s": setup_s}


# --------------------------------------------------------------------------- throughput

def flows_throughput(c, pairs, seconds=4):
    """Run concurrent TCP flows src->dst (iperf3 in host namespaces); Mbit/s received."""
    servers, clients = [], []
    for i, (src, dst) in enumerate(pairs):
        port = 5300 + i
        servers.append(subprocess.Popen(
            ["ip", "netns", "exec", c["hosts"][dst]["ns"], "iperf3", "-s", "-1", "-B",
             c["hosts"][dst]["ip"], "-p", str(port)], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL))
    time.sleep(0.5)
    for i, (src, dst) in enumerate(pairs):
        clients.append(subprocess.Popen(
            ["ip", "netns", "exec", c["hosts"][src]["ns"], "iperf3", "-c",
             c["hosts"][dst]["ip"], "-B", c["hosts"][src]["ip"], "-p", str(5300 + i), "-t",
             str(seconds), "-J", "-O", "1"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True))
    out = []
    for p in clients:
        so, dummy = p.communicate(timeout=seconds + 30)
        j = json.loads(so)
        out.append(j["end"]["sum_received"]["bits_per_second"] / 1e6)
    for s in servers:
        try:
            s.wait(timeout=5)
        except subprocess.TimeoutExpired:
            s.kill()
    return out


# --------------------------------------------------------------------------- artifacts

def _dump(data, f):
    import yaml

    class NoAlias(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True

    yaml.dump(data, f, Dumper=NoAlias, sort_keys=False)


def write_inventory(c, measured):
    common = "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o IdentitiesOnly=yes -o LogLevel=ERROR"
    children = {}
    for s in c["switches"]:
        children[s] = {"hosts": {}}
    for h in c["hosts"].values():
        children[h["switch"]]["hosts"][h["name"]] = {
            "ansible_host": h["ip"],
            "wavedrain_bmc_address": h["bmc_ip"],
            "wavedrain_bmc_user": c["bmc"]["user"],
            "wavedrain_bmc_password": c["bmc"]["password"],
            "wavedrain_switch": h["switch"],
            "wavedrain_nic_mbps": h["nic_mbps"],
            "wavedrain_mac": h["mac"],
            "wavedrain_libvirt_uri": h["libvirt_uri"],
            "wavedrain_migration_address": h["ip"],
            "wavedrain_initial_power": h["power"],
            # capacity the planner may use (a namespace's libvirt reports the whole machine)
            "wavedrain_cpu": h["cpu"],
            "wavedrain_memory_mb": h["memory_mb"],
            "wavedrain_power_w": h.get("power_w", {"off": 0, "idle": 120, "boot": 130, "max": 170}),
        }
    inv = {"all": {
        "vars": {
            "ansible_user": "root",
            "ansible_ssh_private_key_file": c["ssh_key"],
            "ansible_ssh_common_args": common,
            "ansible_python_interpreter": "/usr/bin/python3",
            "wavedrain_model_file": c["model"],
            # the operator constraints and guest knowledge of the model file, for inventory planning
            **{f"wavedrain_{k}": v for k, v in (c.get("constraints") or {}).items()},
            "wavedrain_vm_defaults": {"wws_mb": 0.5},
            "wavedrain_migration_setup_s": measured.get("migration_setup_s", 0.0),
            "wavedrain_links": [
                {"name": l["name"], "ends": l["ends"], "members": l["members"],
                 "member_mbps": l["member_mbps"], "hash": l["hash"]} for l in c["links"]],
        },
        "children": dict(hypervisors={"children": {s: {} for s in c["switches"]}}, **children),
    }}
    with open(c["inventory"], "w") as f:
        f.write("# generated by tests/testbed/testbed up\n")
        _dump(inv, f)


def write_model(c, measured):
    hosts = {}
    for h in c["hosts"].values():
        hosts[h["name"]] = {
            "cpu": h["cpu"], "memory_mb": h["memory_mb"], "power": h["power"],
            "boot_s": round(measured.get("boot_s", 1.0), 2),
            "shutdown_s": round(measured.get("shutdown_s", 0.5), 2),
            "nic_mbps": h["nic_mbps"], "mac": h["mac"], "switch": h["switch"],
            "power_w": h.get("power_w", {"off": 0, "idle": 120, "boot": 130, "max": 170}),
        }
    vms = {}
    for vm, g in c["guests"].items():
        used = measured.get("used_mb", {}).get(vm, round(g["memory_mb"] * 0.9))
        # the guest paces its writes by the clock: the configured rate is exact
        # (domdirtyrate-calc samples 64 pages of a 128 MiB guest: only a sanity check)
        dirty = round(g["dirty_mb_s"] * MIB, 2)
        vms[vm] = {"host": g["host"], "cpu": g.get("cpu", 1), "memory_mb": g["memory_mb"],
                   "used_mb": used, "dirty_mb_s": dirty, "wws_mb": g.get("wws_mb", 0.5)}
    model = {
        "hosts": hosts, "vms": vms,
        "network": {"links": [{"name": l["name"], "ends": list(l["ends"]),
                               "members": l["members"], "member_mbps": l["member_mbps"],
                               "hash": l["hash"]} for l in c["links"]],
                    "migration_setup_s": measured.get("migration_setup_s", 0.0)},
    }
    if c.get("maintenance"):
        model["maintenance"] = c["maintenance"]
    if c.get("constraints"):
        model["constraints"] = c["constraints"]
    with open(c["model"], "w") as f:
        f.write("# generated by tests/testbed/testbed up (measured: boot_s, shutdown_s, used_mb)\n")
        _dump(model, f)


# --------------------------------------------------------------------------- up/down/status

def healthy(c):
    st = load_state(c["state_dir"])
    if not st or not st.get("complete") or st["config"].get("config_hash") != c["config_hash"]:
        return False
    have = set(ns_list())
    for s in c["switches"].values():
        if s["ns"] not in have:
            return False
    for h in c["hosts"].values():
        if h["ns"] not in have or h["bmc_ns"] not in have or not ns_pids(h["bmc_ns"]):
            return False
    return all(os.path.exists(p) for p in (c["inventory"], c["model"], c["ssh_key"]))


def leftovers(prefix):
    nss = [n for n in ns_list() if n.startswith(prefix + "-")]
    r = run(["ip", "-o", "link", "show"], check=False)
    links = [m.group(1) for m in re.finditer(r"^\d+: ([^:@]+)", r.stdout, re.M)
             if m.group(1).startswith(prefix + "-")]
    return nss, links


def down(c=None, state_dir=DEFAULT_STATE_DIR, quiet=False):
    st = load_state(state_dir)
    if c is None:
        c = st["config"] if st else None
    prefix = c["prefix"] if c else "wdtb"
    nss, links = leftovers(prefix)
    pids = []
    for ns in nss:
        pids += ns_pids(ns)
    if pids:
        kill_pids(pids, grace=5)
    for ns in nss:
        run(["ip", "netns", "del", ns], check=False)
    for l in links:
        run(["ip", "link", "del", l], check=False)
    if c:
        for d in (c["data_dir"], c["state_dir"]):
            shutil.rmtree(d, ignore_errors=True)
    elif st is None:
        shutil.rmtree(state_dir, ignore_errors=True)
    if not quiet:
        log(f"down: ended {len(pids)} processes, removed {len(nss)} namespaces")


def up(c):
    t_start = time.time()
    ensure_packages()
    if healthy(c):
        log("testbed already up (idempotent)")
        print_paths(c)
        return 0
    nss, links = leftovers(c["prefix"])
    old = load_state(c["state_dir"])
    if nss or links or old:
        log("cleaning a previous or half-built testbed")
        down(old["config"] if old else c, state_dir=c["state_dir"], quiet=True)
        down(c, state_dir=c["state_dir"], quiet=True)
    os.makedirs(c["state_dir"], exist_ok=True)
    os.makedirs(c["data_dir"], exist_ok=True)
    os.chmod(c["data_dir"], 0o755)
    save_state(c, complete=False, started=time.time())
    # ssh key of the controller
    os.makedirs(os.path.dirname(c["ssh_key"]), mode=0o700, exist_ok=True)
    run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "wavedrain-testbed", "-f",
         c["ssh_key"]])
    shutil.copy(c["ssh_key"] + ".pub", os.path.join(os.path.dirname(c["ssh_key"]),
                                                    "authorized_keys"))
    os.chmod(os.path.dirname(c["ssh_key"]), 0o755)
    os.makedirs(os.path.join(c["data_dir"], "guests"), exist_ok=True)
    log("guest kernel + initramfs")
    build_guest_image(c)
    dtype = "kvm" if kvm_works(c) else "qemu"
    log(f"domain type: {dtype}")
    log("network: switches, hosts, BMCs, bundle")
    build_network(c)
    write_name_files(c)
    for h in c["hosts"].values():
        prepare_host_files(c, h)
    bmc_pids = {n: bmc_start(c, n) for n in c["hosts"]}
    save_state(c, bmc_pids=bmc_pids, domain_type=dtype)
    log("powering on hosts")
    on_hosts = [n for n, h in c["hosts"].items() if h["power"] == "on"]
    t0 = time.time()
    for n in on_hosts:
        open(os.path.join(c["state_dir"], f"power-{n}"), "w").close()
        host_start(c, n)
    boots = []
    for n in on_hosts:
        if not wait_libvirt(c, n, True, timeout=90):
            raise RuntimeError(f"libvirtd of {n} does not answer; see {host_dir(c, n)}")
        boots.append(time.time() - t0)
    log(f"hosts up in {max(boots) if boots else 0:.2f} s")
    seed_caps_cache(c, on_hosts[0] if on_hosts else None)
    # BMCs answer?
    for n in c["hosts"]:
        end = time.time() + 20
        while True:
            r = ipmi(c, n, "chassis", "power", "status", timeout=15)
            if r.returncode == 0:
                break
            if time.time() > end:
                raise RuntimeError(f"BMC of {n} does not answer: {r.stdout} {r.stderr}")
            time.sleep(0.3)
    measured = {}
    # measure boot and shutdown through a real BMC on the first spare
    spares = [n for n, h in c["hosts"].items() if h["power"] == "off"]
    if spares:
        n = spares[0]
        t0 = time.time()
        ipmi(c, n, "chassis", "power", "on")
        wait_libvirt(c, n, True, timeout=90)
        measured["boot_s"] = time.time() - t0
        t0 = time.time()
        ipmi(c, n, "chassis", "power", "off")
        end = time.time() + 60
        while time.time() < end:
            r = ipmi(c, n, "chassis", "power", "status")
            if "is off" in r.stdout and not host_running(c, n):
                break
            time.sleep(0.1)
        measured["shutdown_s"] = time.time() - t0
    else:
        measured["boot_s"] = sum(boots) / len(boots) if boots else 1.0
    log(f"measured boot_s={measured['boot_s']:.2f} shutdown_s={measured.get('shutdown_s', 0):.2f}")
    # guests
    for vm, g in c["guests"].items():
        xml = os.path.join(c["guest_dir"], f"{vm}.xml")
        with open(xml, "w") as f:
            f.write(domain_xml(c, vm, g, dtype))
        virsh(c, g["host"], "define", xml)
        virsh(c, g["host"], "start", vm)
    used = {}
    for vm, g in c["guests"].items():
        end = time.time() + 120
        while guest_mem(c, vm) is None or guest_ticks(c, vm) < 1:
            if time.time() > end:
                raise RuntimeError(f"guest {vm} does not tick; see {serial_log(c, vm)}")
            time.sleep(0.2)
        total_kb, free_kb = guest_mem(c, vm)
        used[vm] = free_kb
    measured["guest_free_kb"] = used
    measured.update(measure_guests(c))
    write_inventory(c, measured)
    write_model(c, measured)
    save_state(c, complete=True, measured=measured, up_s=time.time() - t_start)
    log(f"testbed up in {time.time() - t_start:.1f} s")
    print_paths(c)
    return 0


def print_paths(c):
    print(f"inventory: {c['inventory']}")
    print(f"model: {c['model']}")


def status(state_dir):
    st = load_state(state_dir)
    if not st:
        nss, links = leftovers("wdtb")
        print("testbed: down" + (f" (leftovers: {nss + links})" if nss or links else ""))
        return 1
    c = st["config"]
    print(f"testbed: {'up' if st.get('complete') else 'incomplete'} "
          f"(domain type {st.get('domain_type')}, state {state_dir})")
    have = set(ns_list())
    for n, h in c["hosts"].items():
        on = host_running(c, n)
        lv = libvirt_answers(c, n, timeout=3) if on else False
        doms = ""
        if lv:
            doms = virsh(c, n, "list", "--name", check=False).stdout.split()
        bmc = "up" if h["bmc_ns"] in have and ns_pids(h["bmc_ns"]) else "DOWN"
        print(f"  {n:4} {h['switch']:4} ip={h['ip']:12} bmc={h['bmc_ip']}({bmc}) "
              f"power={'on' if on else 'off'} libvirtd={'yes' if lv else 'no'} guests={doms}")
    print_paths(c)
    return 0


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="testbed", description=__doc__.splitlines()[0])
    ap.add_argument("--config", default=None)
    ap.add_argument("--state-dir", default=None)
    sub = ap.add_subparsers(dest="cmd", required=True)
    sub.add_parser("up")
    sub.add_parser("down")
    sub.add_parser("status")
    s = sub.add_parser("shape", help="reshape a host NIC: shape HOST MBPS")
    s.add_argument("host")
    s.add_argument("mbps", type=float)
    s = sub.add_parser("shape-link", help="reshape every member of a link: shape-link LINK MBPS")
    s.add_argument("link")
    s.add_argument("mbps", type=float)
    s = sub.add_parser("_chassis")
    s.add_argument("host")
    s.add_argument("args", nargs="*")
    s = sub.add_parser("_power")
    s.add_argument("host")
    s.add_argument("action", choices=["on", "off"])
    a = ap.parse_args(argv)

    if a.cmd in ("up",) or (a.cmd == "down" and a.config):
        c = load_config(a.config)
        if a.state_dir:
            c["state_dir"] = a.state_dir
        if a.cmd == "up":
            return up(c)
        down(c, state_dir=c["state_dir"])
        return 0
    state_dir = a.state_dir
    if state_dir is None:
        state_dir = load_config(a.config)["state_dir"] if a.config else DEFAULT_STATE_DIR
    if a.cmd == "down":
        down(None, state_dir=state_dir)
        return 0
    if a.cmd == "status":
        return status(state_dir)
    if a.cmd == "_chassis":
        return chassis(state_dir, a.host, a.args)
    st = load_state(state_dir)
    if not st:
        print("testbed is not up", file=sys.stderr)
        return 1
    c = st["config"]
    if a.cmd == "_power":
        power(c, a.host, a.action)
    elif a.cmd == "shape":
        shape_host(c, a.host, a.mbps)
    elif a.cmd == "shape-link":
        shape_link(c, a.link, a.mbps)
    return 0
