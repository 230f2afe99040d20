"""hypervisor_info without a hypervisor: a fake libvirt (the real one is tested on the testbed)."""
import types

import pytest

from ansible_collections.wavedrain.kvm.plugins.modules import hypervisor_info as hf


class FakeError(Exception):
    pass


class FakeDomain:
    def __init__(self, name, state=1, vcpus=1, mem_kib=131072, dtype="qemu", fail_dirty=False,
                 rates=(3,), fail_round=None):
        self._name, self._state, self._vcpus, self._mem, self._type = name, state, vcpus, mem_kib, dtype
        self.fail_dirty, self.calls = fail_dirty, []
        self.rates, self.fail_round = rates, fail_round  # MiB/s read in each round; round that fails

    def name(self):
        return self._name

    def UUIDString(self):
        return "uuid-" + self._name

    def state(self):
        return [self._state, 1]

    def info(self):
        return [self._state, self._mem, self._mem, self._vcpus, 0]

    def isPersistent(self):
        return 1

    def XMLDesc(self, flags):
        return "<domain type='%s'><name>%s</name></domain>" % (self._type, self._name)

    def startDirtyRateCalc(self, seconds, flags):
        if self.fail_dirty or len(self.calls) + 1 == self.fail_round:
            raise FakeError("not supported")
        self.calls.append((seconds, flags))


class FakeConn:
    def __init__(self, domains):
        self.domains, self.rounds = domains, 0

    def getInfo(self):
        return ["x86_64", 7770, 2, 2600, 1, 1, 2, 1]

    def getFreeMemory(self):
        return 3 * 10 ** 9

    def getLibVersion(self):
        return 9000000

    def listAllDomains(self, flags):
        return self.domains

    def domainListGetStats(self, doms, flags):
        self.rounds += 1
        out = []
        for d in doms:
            if flags == FakeLibvirt.VIR_DOMAIN_STATS_DIRTYRATE:
                rate = d.rates[(len(d.calls) - 1) % len(d.rates)]
                out.append((d, {"dirtyrate.calc_status": 2, "dirtyrate.megabytes_per_second": rate}))
            else:
                out.append((d, {"balloon.rss": 215956, "vcpu.0.time": self.rounds * 5 * 10 ** 8}))
        return out

    def close(self):
        pass


FakeLibvirt = types.SimpleNamespace(
    VIR_DOMAIN_STATS_STATE=1, VIR_DOMAIN_STATS_BALLOON=4, VIR_DOMAIN_STATS_VCPU=8,
    VIR_DOMAIN_STATS_DIRTYRATE=512, libvirtError=FakeError)


@pytest.fixture
def fake(monkeypatch):
    monkeypatch.setattr(hf, "libvirt", FakeLibvirt, raising=False)
    monkeypatch.setattr(hf.time, "sleep", lambda s: None)
    domains = [FakeDomain("vm1"), FakeDomain("vm2", dtype="kvm", vcpus=2), FakeDomain("off", state=5),
               FakeDomain("broken", fail_dirty=True)]
    conn = FakeConn(domains)
    FakeLibvirt.open = lambda uri: conn
    return conn


PARAMS = {"uri": "qemu:///system", "dirty_rate": True, "dirty_rate_s": 2, "dirty_rate_rounds": 1,
          "dirty_rate_mode": "dirty-bitmap", "timeout_s": 30}


def test_gather_units_modes_and_fallbacks(fake):
    hyp, domains, warnings = hf.gather(None, dict(PARAMS))
    assert hyp["cpu"] == 2 and hyp["memory_mb"] == int(7770 * 1.048576) and hyp["free_memory_mb"] == 3000
    by = {d["name"]: d for d in domains}
    assert by["vm1"]["memory_mb"] == 134.2 and by["vm1"]["used_mb"] == 134.2 and by["vm1"]["used_source"] == "rss"
    assert by["vm1"]["dirty_mb_s"] == 3.15
    # one 2 s round of 3 MiB/s rests on 3 dirty samples: sqrt(3) MiB/s
    assert by["vm1"]["dirty_error_mb_s"] == round(3 ** 0.5 * 1.048576, 2)
    assert by["vm2"]["dirty_error_mb_s"] is None  # the bitmap counts every page
    # dirty-bitmap only for KVM domains: the TCG one falls back to page sampling
    assert by["vm1"]["dirty_source"] == "page-sampling" and by["vm2"]["dirty_source"] == "dirty-bitmap"
    assert fake.domains[0].calls == [(2, 0)] and fake.domains[1].calls == [(2, 1)]
    assert by["off"]["running"] is False and by["off"]["dirty_mb_s"] is None and by["off"]["used_mb"] is None
    assert by["broken"]["dirty_mb_s"] is None
    assert any("broken: dirty rate not measured" in w for w in warnings)
    assert 0 <= by["vm2"]["cpu_load"] <= 1


def test_no_dirty_rate(fake):
    dummy, domains, dummy = hf.gather(None, dict(PARAMS, dirty_rate=False))
    assert all(d["dirty_mb_s"] is None for d in domains) and not fake.domains[0].calls


def test_used_mb_prefers_balloon():
    assert hf.used_mb({"balloon.available": 1024 * 100, "balloon.unused": 1024 * 40}, 131072) == (62.9, "balloon")
    assert hf.used_mb({}, 131072) == (134.2, "memory")


def test_rounds_average_and_narrow_the_error(fake):
    """Three rounds reading 2, 4 and 3 MiB/s: mean 3, resting on 9 dirty samples (error 1 MiB/s),
    against sqrt(3) for one round; a domain that fails in a later round is not reported."""
    fake.domains[0].rates = (2, 4, 3)
    fake.domains[1].fail_round = 2
    dummy, domains, warnings = hf.gather(None, dict(PARAMS, dirty_rate_rounds=3, dirty_rate_mode="page-sampling"))
    by = {d["name"]: d for d in domains}
    assert fake.domains[0].calls == [(2, 0)] * 3
    assert by["vm1"]["dirty_mb_s"] == 3.15 and by["vm1"]["dirty_error_mb_s"] == 1.05
    assert by["vm2"]["dirty_mb_s"] is None and len(fake.domains[1].calls) == 1
    assert any(w.startswith("vm2: dirty rate not measured") for w in warnings)


def test_error_of_a_zero_reading_is_one_sample():
    assert hf.dirty_rate_error_mib_s([0, 0], 2) == pytest.approx(0.5)
    # a 1 s window: each dirty sample is worth 2 MiB/s, so 6 MiB/s rests on 3 samples
    assert hf.dirty_rate_error_mib_s([6], 1) == pytest.approx(3 ** 0.5 * 2)
