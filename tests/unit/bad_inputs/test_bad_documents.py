"""Bad model files: read with the safe loader, refused with the file, the line and the fix."""
import os

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import load_document, load_document_file
from ansible_collections.wavedrain.kvm.plugins.module_utils._planner.model import parse_model

from catalogue import accepted, refused, run_bounded

GOOD_HOSTS = "hosts:\n  h1: {cpu: 8, memory_mb: 1024}\n  s1: {cpu: 8, memory_mb: 1024}\n"
BOMB = "\n".join(["a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]"]
                 + ["l%d: &l%d [%s]" % (i, i, ", ".join(["*" + ("a" if i == 1 else "l%d" % (i - 1))] * 9))
                    for i in range(1, 10)]
                 + ["hosts: {h1: {cpu: 8, memory_mb: *l9}}"])

# (case id, file name, text, words)
TEXTS = [
    ("duplicate-host", "dc.yml", GOOD_HOSTS + "  h1: {cpu: 4, memory_mb: 1}\n", ["dc.yml, line 4", "'h1' appears twice"]),
    ("duplicate-vm", "dc.yml", GOOD_HOSTS + "vms:\n  a: {host: h1}\n  a: {host: s1}\n",
     ["line 6", "'a' appears twice", "first on line 5"]),
    ("duplicate-json", "dc.json", '{"hosts": {"h1": {}, "h1": {}}}', ["dc.json", "'h1' appears twice"]),
    ("alias-bomb-in-number", "dc.yml", BOMB, ["dc.yml", "aliases", "expand to"]),
    ("alias-self", "dc.yml", "hosts: &h {h1: *h}\n", ["inside its own anchor"]),
    ("yaml-inf", "dc.yml", "hosts:\n  h1: {cpu: .inf, memory_mb: 1}\n", ["line 2", "'.inf' is not a finite number"]),
    ("yaml-nan", "dc.yml", "vms:\n  a: {memory_mb: .NaN}\n", ["line 2", "not a finite number"]),
    ("json-nan", "dc.json", '{"vms": {"a": {"memory_mb": NaN}}}', ["vms.a.memory_mb is nan"]),
    ("json-overflow", "dc.json", '{"hosts": {"h1": {"cpu": 1e999}}}', ["hosts.h1.cpu is inf"]),
    ("deep-yaml", "dc.yml", "a: " + "[" * 1000 + "]" * 1000, ["nested more than 64"]),
    ("deep-json", "dc.json", '{"a": ' + "[" * 50000 + "]" * 50000 + "}", ["nested more than 64"]),
    ("two-documents", "dc.yml", GOOD_HOSTS + "---\nhosts: {}\n", ["line 4", "another document"]),
    ("python-tag", "dc.yml", "hosts: !!python/object/apply:os.system ['touch /tmp/x']\n", ["could not determine a constructor"]),
    ("huge-integer", "dc.yml", "hosts: {h1: {cpu: %s}}\n" % ("9" * 5000), ["more than 4300 digits"]),
    ("syntax", "dc.yml", "hosts: {h1: {cpu: 8\nvms: [\n", ["is not valid YAML", "fix the syntax"]),
    ("json-syntax", "dc.json", '{"hosts": {"h1": {"cpu": 8,}}}', ["is not valid JSON", "column"]),
    ("undefined-alias", "dc.yml", "hosts: *nothing\n", ["undefined alias"]),
    ("tab-indent", "dc.yml", "hosts:\n\th1: {}\n", ["is not valid YAML"]),
]


@pytest.mark.parametrize("name, text, words", [c[1:] for c in TEXTS], ids=[c[0] for c in TEXTS])
def test_bad_model_text_is_refused(name, text, words):
    refused(lambda: parse_model(load_document(text, name)), *words)


@pytest.mark.parametrize("name, data, words", [
    ("latin1", b"hosts:\n  caf\xe9: {}\n", ["line 2", "is not UTF-8"]),
    ("empty", b"", ["the model must be a mapping"]),
    ("scalar", b"hello\n", ["the model must be a mapping", "got str"]),
    ("list", b"- hosts\n", ["the model must be a mapping", "got list"]),
])
def test_bad_model_file_is_refused(tmp_path, name, data, words):
    path = tmp_path / (name + ".yml")
    path.write_bytes(data)
    refused(lambda: parse_model(load_document_file(path)), *words)


def test_file_above_the_size_bound_is_refused_unread(tmp_path):
    path = tmp_path / "huge.yml"
    with open(path, "wb") as handle:
        handle.truncate(9 * 1024 * 1024)   # sparse: 9 MiB of nothing, refused before reading
    refused(lambda: load_document_file(path), "huge.yml", "more than the 8388608 bytes allowed")


@pytest.mark.parametrize("special", ["/dev/zero", "/dev/urandom", "fifo"])
def test_endless_files_are_refused_without_hanging(tmp_path, special):
    path = special
    if special == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)   # nobody writes: opening it normally would wait forever
    refused(lambda: load_document_file(path), "is not a regular file")


def test_missing_file_and_directory_are_named(tmp_path):
    refused(lambda: load_document_file(tmp_path / "nope.yml"), "nope.yml: cannot be read", "No such file")
    refused(lambda: load_document_file(tmp_path), "cannot be read", "Is a directory")


def test_merge_keys_and_a_few_aliases_are_accepted():
    text = ("x-defaults: &blade {cpu: 8, memory_mb: 16384}\n"
            "hosts:\n  h1: {<<: *blade}\n  s1: {<<: *blade, memory_mb: 32768}\n")
    data = accepted(lambda: load_document(text, "dc.yml"))
    assert data["hosts"] == {"h1": {"cpu": 8, "memory_mb": 16384}, "s1": {"cpu": 8, "memory_mb": 32768}}


def test_the_harness_reports_tracebacks_hangs_and_memory_bombs():
    import time
    assert run_bounded(lambda: 1 / 0)[0] == "raised"
    with pytest.raises(pytest.fail.Exception, match="did not finish within 1 s"):
        run_bounded(lambda: time.sleep(60), seconds=1)
    result = run_bounded(lambda: len(bytearray(8 * 1024 ** 3)))
    assert result[0] == "raised" and "MemoryError" in result[1]


def test_a_model_sharing_host_defaults_through_an_x_anchor_is_planned():
    text = ("x-blade: &blade {cpu: 8, memory_mb: 16384, switch: sw1}\n"
            "hosts:\n  h1: {<<: *blade, mac: '02:00:00:00:00:01'}\n  s1: {<<: *blade, mac: '02:00:00:00:00:02'}\n"
            "vms:\n  a: {host: h1, memory_mb: 1024}\n"
            "maintenance: {drain: [h1], targets: [s1]}\n")

    def parse():
        model = parse_model(load_document(text, "dc.yml"))
        return sorted(model.hosts), model.hosts["s1"].memory_mb, model.warnings

    assert accepted(parse) == (["h1", "s1"], 16384.0, [])
