#!/usr/bin/env python
"""Generate a two-level datacenter model: racks of hosts (25 Gb NICs) joined to a core by
4 x 10 Gb uplinks, some hashed layer2, some balanced. Some racks are drained into spares
(off) of other racks. Deterministic for a given seed.

    python bench/gen_datacenter.py --hosts 2048 --drain 400 --out build/dc2048.yml
"""
import argparse
import json
import random


def generate(hosts=2048, drain=400, rack_size=32, vms_per_host=15, seed=7):
    rng = random.Random(seed)
    racks = (hosts + rack_size - 1) // rack_size
    model = {"name": f"generated datacenter: {hosts} hosts, {drain} drained", "hosts": {}, "vms": {},
             "network": {"links": []}, "maintenance": {"drain": [], "targets": []},
             "constraints": {"max_downtime_ms": 30, "migration_timeout_s": 600}}
    spare_racks = max(1, (drain + rack_size - 1) // rack_size)
    names = []
    for i in range(hosts):
        rack = i // rack_size
        name = f"r{rack:03d}-h{i % rack_size:02d}"
        names.append((name, rack))
        model["hosts"][name] = {
            "cpu": 128, "memory_mb": 524288, "power": "on", "boot_s": 150, "shutdown_s": 40,
            "nic_mbps": 25000, "mac": "02:%02x:%02x:%02x:%02x:%02x" % (
                (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255, rng.randrange(256)),
            "switch": f"rack{rack:03d}", "power_w": {"off": 8, "idle": 180, "boot": 220, "max": 420}}
    for rack in range(racks):
        model["network"]["links"].append({"name": f"up{rack:03d}", "ends": [f"rack{rack:03d}", "core"],
                                          "members": 4, "member_mbps": 10000,
                                          "hash": "layer2" if rack % 2 == 0 else "balanced"})
    # drained: the first hosts of the first racks; spares: the last racks, off
    drained = [n for n, dummy in names[:drain]]
    spare = [n for n, rack in names if rack >= racks - spare_racks][:drain + drain // 10]
    for s in spare:
        model["hosts"][s]["power"] = "off"
    model["maintenance"]["drain"] = drained
    model["maintenance"]["targets"] = spare
    sizes = [(2, 4096), (4, 8192), (2, 2048), (8, 16384)]
    for h in drained:
        for j in range(vms_per_host):
            cpu, mem = sizes[rng.randrange(len(sizes))]
            model["vms"][f"{h}-vm{j:02d}"] = {
                "host": h, "cpu": cpu, "memory_mb": mem, "used_mb": int(mem * rng.uniform(0.2, 0.9)),
                "dirty_mb_s": round(rng.uniform(1, 40), 1), "wws_mb": round(rng.uniform(1, 20), 1)}
    return model


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--hosts", type=int, default=2048)
    parser.add_argument("--drain", type=int, default=400)
    parser.add_argument("--vms-per-host", type=int, default=15)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--out", default="-")
    args = parser.parse_args()
    model = generate(args.hosts, args.drain, vms_per_host=args.vms_per_host, seed=args.seed)
    text = json.dumps(model)
    if args.out == "-":
        print(text)
    else:
        with open(args.out, "w") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
