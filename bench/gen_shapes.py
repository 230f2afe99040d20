#!/usr/bin/env python
"""Seeded generator of diverse datacenter shapes for the planner bench (200-2,048 hosts).

Unlike gen_datacenter.py (one spare per drained host, the case rack aggregation handles),
these vary the structure that matters to the planner: many drained hosts into one spare, one
drained host into several targets, targets left unspecified (any host with room), mixed host
sizes, resident VMs on targets, layer2 and balanced bundles, binding license cap and power
budget, concurrency caps, and network islands (pods with no links between them).

    python bench/gen_shapes.py --list
    python bench/gen_shapes.py --shape islands-512 --out model.json
"""
import argparse
import json
import random

HOST_SIZES = {"small": (32, 131072), "medium": (64, 262144), "large": (128, 524288)}
VM_SIZES = [(2, 4096), (4, 8192), (2, 2048), (8, 16384), (1, 1024)]

# name -> parameters (see build); every shape is seeded by its name
SHAPES = {
    "many-into-one-256": dict(racks=8, drain_hosts=range(0, 24), vms_per_host=(2, 4), spare_hosts=range(250, 252),
                              spare_size="large", targets="spares"),
    "one-into-several-256": dict(racks=8, drain_hosts=range(0, 4), vms_per_host=(36, 44), drained_size="large",
                                 targets="on-room", resident_fill=0.75, spare_hosts=()),
    "unspecified-targets-384": dict(racks=12, drain_racks=range(0, 4), vms_per_host=(12, 18), spare_racks=range(10, 12),
                                    targets=None, resident_fill=0.45, uplink_hash="layer2", license_extra=16,
                                    power_margin_w=9000),
    "mixed-sizes-512": dict(racks=16, drain_every=9, vms_per_host=(3, 12), host_mix=("small", "medium", "large"),
                            targets=None, resident_fill=0.5, spare_hosts=()),
    "layer2-balanced-512": dict(racks=16, drain_racks=range(0, 3), vms_per_host=(8, 14), spare_racks=range(13, 16),
                                targets="spares", uplink_members=2, uplink_hash="mixed"),
    "license-power-384": dict(racks=12, drain_racks=range(0, 2), vms_per_host=(6, 10), spare_racks=range(10, 12),
                              targets="spares", license_extra=6, power_margin_w=2500),
    "islands-512": dict(racks=16, pods=4, drain_every=11, vms_per_host=(4, 8), targets=None, resident_fill=0.5,
                        spare_hosts=()),
    "caps-768": dict(racks=24, drain_racks=range(0, 4), vms_per_host=(6, 10), spare_racks=range(20, 24),
                     targets="spares", caps={"max_migrations_per_source": 2, "max_migrations_per_destination": 2,
                                             "max_migrations_total": 64}),
    "scattered-1024": dict(racks=32, drain_every=8, vms_per_host=(6, 10), targets=None, resident_fill=0.45,
                           spare_hosts=()),
    "dense-200": dict(racks=7, rack_size=29, drain_racks=range(0, 2), vms_per_host=(10, 16), targets=None,
                      resident_fill=0.7, spare_racks=range(6, 7)),
    "spares-2048": dict(racks=64, drain_racks=range(0, 13), vms_per_host=(10, 17), spare_racks=range(52, 64),
                        targets=None, resident_fill=0.4, uplink_hash="mixed", license_extra=16),
}


def _host(rng, i, rack, pod, size, nic):
    cpu, mem = HOST_SIZES[size]
    return {"cpu": cpu, "memory_mb": mem, "power": "on", "boot_s": rng.choice([120, 150, 180]),
            "shutdown_s": rng.choice([30, 40]), "nic_mbps": nic,
            "mac": "02:%02x:%02x:%02x:%02x:%02x" % (pod, (i >> 16) & 255, (i >> 8) & 255, i & 255, rng.randrange(256)),
            "switch": f"rack{rack:03d}", "power_w": {"off": 8, "idle": 150 + cpu, "boot": 200 + cpu,
                                                     "max": 250 + 3 * cpu}}


def _vm(rng):
    cpu, mem = rng.choice(VM_SIZES)
    return {"cpu": cpu, "memory_mb": mem, "used_mb": int(mem * rng.uniform(0.2, 0.9)),
            "dirty_mb_s": round(rng.uniform(1, 30), 1), "wws_mb": round(rng.uniform(1, 20), 1)}


def _fill(rng, model, host, fraction, counter):
    """Resident VMs up to ``fraction`` of the host's cpu and memory."""
    spec = model["hosts"][host]
    cpu, mem = 0, 0
    while True:
        vm = _vm(rng)
        if cpu + vm["cpu"] > fraction * spec["cpu"] or mem + vm["memory_mb"] > fraction * spec["memory_mb"]:
            return
        cpu, mem = cpu + vm["cpu"], mem + vm["memory_mb"]
        counter[0] += 1
        model["vms"][f"{host}-r{counter[0]:05d}"] = dict(vm, host=host)


def build(name, seed=None):
    """The shape's model; ``seed`` (None: the shape's own) draws another instance of the same mix."""
    p = SHAPES[name]
    rng = random.Random(name if seed is None else f"{name}/{seed}")
    rack_size, racks, pods = p.get("rack_size", 32), p["racks"], p.get("pods", 1)
    model = {"name": f"shape {name}", "hosts": {}, "vms": {}, "network": {"links": []},
             "maintenance": {}, "constraints": {"max_downtime_ms": 30, "migration_timeout_s": 600}}
    names = []
    for i in range(racks * rack_size):
        rack = i // rack_size
        pod = rack * pods // racks
        size = rng.choice(p.get("host_mix", ("medium",)))
        host = f"r{rack:03d}-h{i % rack_size:02d}"
        model["hosts"][host] = _host(rng, i, rack, pod, size, 25000)
        names.append((host, rack))
    for rack in range(racks):
        pod = rack * pods // racks
        policy = p.get("uplink_hash", "mixed")
        policy = ("layer2" if rack % 2 == 0 else "balanced") if policy == "mixed" else policy
        model["network"]["links"].append({"name": f"up{rack:03d}", "ends": [f"rack{rack:03d}", f"core{pod}"],
                                          "members": p.get("uplink_members", 4), "member_mbps": 10000,
                                          "hash": policy})
    drained = [h for k, (h, rack) in enumerate(names)
               if rack in p.get("drain_racks", ()) or k in p.get("drain_hosts", ())
               or (p.get("drain_every") and k % p["drain_every"] == 3)]
    spares = [h for k, (h, rack) in enumerate(names)
              if (rack in p.get("spare_racks", ()) or k in p.get("spare_hosts", ())) and h not in drained]
    for host in drained:
        if p.get("drained_size"):
            cpu, mem = HOST_SIZES[p["drained_size"]]
            model["hosts"][host].update(cpu=cpu, memory_mb=mem)
    for host in spares:
        if p.get("spare_size"):
            cpu, mem = HOST_SIZES[p["spare_size"]]
            model["hosts"][host].update(cpu=cpu, memory_mb=mem)
        model["hosts"][host]["power"] = "off"
    counter = [0]
    for host in drained:
        room = [model["hosts"][host]["cpu"], model["hosts"][host]["memory_mb"]]
        for j in range(rng.randint(*p["vms_per_host"])):
            vm = _vm(rng)
            if vm["cpu"] > room[0] or vm["memory_mb"] > room[1]:
                break                  # a host never carries more than it has
            room = [room[0] - vm["cpu"], room[1] - vm["memory_mb"]]
            model["vms"][f"{host}-vm{j:02d}"] = dict(vm, host=host)
    others = [h for h, dummy in names if h not in drained and h not in spares]
    for host in others:
        _fill(rng, model, host, p.get("resident_fill", 0.9), counter)
    model["maintenance"]["drain"] = drained
    targets = p.get("targets")
    if targets == "spares":
        model["maintenance"]["targets"] = spares
    elif targets == "on-room":
        model["maintenance"]["targets"] = others
    _constraints(model, p, spares)
    return model


def _constraints(model, p, spares):
    cons = model["constraints"]
    online = sum(1 for h in model["hosts"].values() if h["power"] == "on")
    if p.get("license_extra"):
        cons["max_online_hosts"] = online + p["license_extra"]
    if p.get("power_margin_w"):
        load = {}
        for vm in model["vms"].values():
            load[vm["host"]] = load.get(vm["host"], 0) + vm["cpu"]
        now = 0.0
        for name, h in model["hosts"].items():
            w = h["power_w"]
            now += w["off"] if h["power"] == "off" else w["idle"] + (w["max"] - w["idle"]) * min(1, load.get(name, 0) / h["cpu"])
        cons["power_budget_w"] = round(now + p["power_margin_w"])
    cons.update(p.get("caps", {}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shape", choices=sorted(SHAPES))
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--out", default="-")
    parser.add_argument("--seed", help="another instance of the same mix (default: the shape's own)")
    args = parser.parse_args()
    if args.list or not args.shape:
        for name in SHAPES:
            model = build(name, args.seed)
            moving = sum(1 for v in model["vms"].values() if v["host"] in set(model["maintenance"]["drain"]))
            print(f"{name}: {len(model['hosts'])} hosts, {len(model['maintenance']['drain'])} drained, {moving} VMs to move")
        return
    text = json.dumps(build(args.shape, args.seed))
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
