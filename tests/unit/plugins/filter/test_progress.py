"""wavedrain.kvm.progress: wave i of n, migrations done/left, ETA from the plan."""
from ansible_collections.wavedrain.kvm.plugins.filter.progress import progress

PLAN = {"version": 1, "strategy": "optimal", "predicted": {"completion_s": 40.0}, "actions": [
    {"id": "boot/s1", "type": "power_on", "host": "s1", "wave": 1, "after": [], "start_s": 0, "end_s": 10},
    {"id": "migrate/a", "type": "migrate", "vm": "a", "source": "h1", "destination": "s1", "wave": 1,
     "after": ["boot/s1"], "start_s": 10, "end_s": 20},
    {"id": "halt/h1", "type": "power_off", "host": "h1", "wave": 1, "after": ["migrate/a"], "start_s": 20, "end_s": 25},
    {"id": "migrate/b", "type": "migrate", "vm": "b", "source": "h2", "destination": "s1", "wave": 2,
     "after": ["migrate/a"], "start_s": 20, "end_s": 35},
    {"id": "halt/h2", "type": "power_off", "host": "h2", "wave": 2, "after": ["migrate/b"], "start_s": 35, "end_s": 40},
]}


def test_start():
    p = progress(PLAN)
    assert (p["wave"], p["waves"], p["migrations_done"], p["migrations_remaining"]) == (1, 2, 0, 2)
    assert p["eta_s"] == 40.0 and p["percent"] == 0.0
    assert p["line"] == "wave 1/2 - migrations 0/2 done, 2 left - ETA 40s (plan)"


def test_middle_and_late():
    p = progress(PLAN, done=["boot/s1", "migrate/a", "halt/h1"], elapsed_s=35)
    assert (p["wave"], p["migrations_done"], p["migrations_remaining"]) == (2, 1, 1)
    assert p["eta_s"] == 20.0 and p["late_s"] == 15.0
    assert p["line"].endswith("ETA 20s (plan), 15s behind the plan")


def test_done():
    p = progress(PLAN, done=[a["id"] for a in PLAN["actions"]])
    assert p["eta_s"] == 0 and p["percent"] == 100.0 and p["line"].startswith("all 2 waves done")
