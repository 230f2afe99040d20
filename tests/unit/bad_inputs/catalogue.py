"""The bad-input catalogue (issue 11): every case runs in a forked child bounded in time and
memory, and must end in a clear refusal naming the object (or a correct result), never in a
traceback, a hang or a silent acceptance."""
import copy
import os
import pickle
import resource
import select
import signal
import time
import traceback

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import DocumentError
from ansible_collections.wavedrain.kvm.plugins.module_utils._inventory_model import InventoryModelError
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import ModelError
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.plan import PlanFormatError

CASE_SECONDS = 20          # generous: CI is a loaded 2-core machine; a hang is caught all the same
CASE_MEMORY_MB = 1024      # on top of what the test process already maps
CLEAR_ERRORS = (ModelError, PlanFormatError, InventoryModelError, AnsibleFilterError, DocumentError)


def _mapped_bytes():
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def _child(action, write_fd):
    try:
        signal.alarm(CASE_SECONDS + 5)   # belt and braces: the parent kills it first
        limit = _mapped_bytes() + CASE_MEMORY_MB * 2 ** 20
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            value = action()
            result = ("accepted", value)
        except CLEAR_ERRORS as exc:
            result = ("refused", str(exc), [str(w) for w in getattr(exc, "warnings", [])])
        data = pickle.dumps(result)
    except BaseException as exc:   # noqa: B036 - anything else is what the catalogue hunts
        data = pickle.dumps(("raised", "%s: %s" % (type(exc).__name__, str(exc)[:2000]),
                             traceback.format_exc()[-4000:]))
    with os.fdopen(write_fd, "wb") as out:
        out.write(data)
    os._exit(0)


def run_bounded(action, seconds=CASE_SECONDS):
    """Run ``action()`` in a forked child; return ('accepted', value) | ('refused', msg, warnings)
    | ('raised', error, traceback). A child still running after ``seconds`` fails the test."""
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_fd)
        _child(action, write_fd)
    os.close(write_fd)
    chunks, deadline = [], time.monotonic() + seconds
    try:
        while True:
            left = deadline - time.monotonic()
            ready = select.select([read_fd], [], [], max(0.0, left))[0] if left > 0 else []
            if not ready:
                os.kill(pid, signal.SIGKILL)
                pytest.fail("the case did not finish within %d s (a hang)" % seconds)
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_fd)
        os.waitpid(pid, 0)
    if not chunks:
        pytest.fail("the case died without an answer (memory bound of %d MB exceeded?)" % CASE_MEMORY_MB)
    return pickle.loads(b"".join(chunks))


def refused(action, *words):
    """Assert a clear refusal whose message holds every one of ``words``; return (msg, warnings)."""
    result = run_bounded(action)
    assert result[0] != "raised", "a traceback instead of a clear refusal: %s\n%s" % (result[1], result[2])
    assert result[0] == "refused", "silently accepted: %r" % (str(result[1])[:500],)
    message = result[1]
    for word in words:
        assert word in message, "%r not in the refusal: %s" % (word, message[:2000])
    assert "Traceback" not in message
    return message, result[2]


def accepted(action):
    """Assert ``action()`` finished without error; return its value."""
    result = run_bounded(action)
    assert result[0] == "accepted", "expected a result, got %s: %s" % (result[0], str(result[1])[:2000])
    return result[1]


def base_model():
    """h1, h2 drained into s1 (off) and s2 (on), two switches joined by a layer2 bundle."""
    host = {"cpu": 8, "memory_mb": 16384, "power": "on", "nic_mbps": 1000, "boot_s": 100, "shutdown_s": 20}
    return copy.deepcopy({
        "hosts": {
            "h1": dict(host, switch="sw1", mac="02:00:00:00:00:01"),
            "h2": dict(host, switch="sw1", mac="02:00:00:00:00:02"),
            "s1": dict(host, switch="sw2", mac="02:00:00:00:00:03", power="off"),
            "s2": dict(host, switch="sw2", mac="02:00:00:00:00:04"),
        },
        "vms": {
            "a": {"host": "h1", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
            "b": {"host": "h1", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
            "c": {"host": "h2", "cpu": 2, "memory_mb": 4096, "used_mb": 1000, "dirty_mb_s": 1, "wws_mb": 0.1},
        },
        "network": {"links": [{"name": "sw1-sw2", "ends": ["sw1", "sw2"], "members": 2,
                               "member_mbps": 1000, "hash": "layer2"}]},
        "maintenance": {"drain": ["h1", "h2"], "targets": ["s1", "s2"]},
        "constraints": {"max_downtime_ms": 30, "migration_timeout_s": 600},
    })


def changed(path, value, model=None):
    """A copy of ``model`` (default base_model()) with ``path`` set to ``value``: dotted text
    (list indexes as numbers: network.links.0.members) or a tuple of keys (any key type)."""
    model = copy.deepcopy(model) if model is not None else base_model()
    keys = path.split(".") if isinstance(path, str) else list(path)
    here = model
    for key in keys[:-1]:
        here = here[int(key)] if isinstance(here, list) else here[key]
    last = keys[-1]
    if isinstance(here, list):
        here[int(last)] = value
    else:
        here[last] = value
    return model


HOSTILE_NAMES = ("h1$(touch {marker})", "; rm -rf /", "`touch {marker}`", "--help", "h1 && touch {marker}",
                 "../../etc/passwd", "h1\ntouch {marker}")
