"""wavedrain.kvm.report_html: plan and model as plain dicts (what playbooks hold) -> HTML."""
import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.filter.report_html import report_html
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner import baselines
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

MODEL = {
    "hosts": {"h1": {"cpu": 4, "memory_mb": 4096, "switch": "sw1", "mac": "02:00:00:00:00:01"},
              "h2": {"cpu": 4, "memory_mb": 4096, "switch": "sw2", "mac": "02:00:00:00:00:02", "power": "off"}},
    "vms": {"a": {"host": "h1", "memory_mb": 1024, "used_mb": 500, "dirty_mb_s": 1}},
    "network": {"links": [{"name": "l", "ends": ["sw1", "sw2"], "members": 2, "member_mbps": 1000,
                           "hash": "layer2"}]},
    "maintenance": {"drain": ["h1"], "targets": ["h2"]},
}


@pytest.fixture
def plan():
    data = baselines.sequential(parse_model(MODEL)).to_dict()
    data["yardsticks"] = {"parallel": dict(data["predicted"], completion_s=999.0), "hand_tuned": None}
    return data


def test_plan_page(plan):
    html = report_html(plan, MODEL)
    assert '<svg class="gantt"' in html and '<svg class="links"' in html and "<th>parallel</th>" in html
    assert "999" in html


def test_run_page(plan):
    run = {"actions": [{"id": a["id"], "start_s": a["start_s"], "end_s": a["end_s"] + 1, "outcome": "ok"}
                       for a in plan["actions"]]}
    html = report_html(plan, MODEL, run=run)
    assert "Drain run: success" in html and '<svg class="run-gantt"' in html


def test_bad_input_is_a_filter_error(plan):
    with pytest.raises(AnsibleFilterError, match="report_html"):
        report_html({"version": 2, "actions": []}, MODEL)
    with pytest.raises(AnsibleFilterError, match="report_html"):
        report_html(plan, {"hosts": {}})
