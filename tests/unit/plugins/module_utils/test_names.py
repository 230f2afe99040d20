"""Names and addresses that may reach a command line: accepted ones pass, others say why."""
import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._names import (
    bmc_address_problem, host_name_problem, libvirt_uri_problem, shown, vm_name_problem)

GOOD_NAMES = ["h1", "H1", "node-01", "node_01", "hv1.rack2.example.org", "1", "a" * 63]
HOSTILE = {
    "h1$(touch /tmp/marker)": "'$'",
    "; rm -rf /": "';'",
    "`id`": "backtick",
    "--help": "starts with '-'",
    "-x": "starts with '-'",
    "../etc": "'/'",
    "a..b": "'..'",
    "a b": "a space",
    "a\tb": "a tab",
    "a\nb": "a newline",
    "a\x00b": "control character",
    "h1|cat": "'|'",
    "h1&": "'&'",
    "h1>x": "'>'",
    "é": "'é'",
    ".hidden": "starts with '.'",
}


@pytest.mark.parametrize("name", GOOD_NAMES)
def test_ordinary_names_are_accepted(name):
    assert host_name_problem(name) is None
    assert vm_name_problem(name) is None


@pytest.mark.parametrize("name, reason", sorted(HOSTILE.items()))
def test_hostile_names_are_refused_with_the_reason(name, reason):
    for problem, kind in ((host_name_problem(name), "host name"), (vm_name_problem(name), "VM name")):
        assert problem is not None and problem.startswith(kind)
        assert reason in problem
        assert "use letters, digits" in problem       # the fix
        assert "\n" not in problem                    # one line, even for a name with a newline


@pytest.mark.parametrize("value, kind", [(5, "int"), (None, "NoneType"), (["h1"], "list"),
                                         ({"a": 1}, "dict"), (True, "bool")])
def test_non_strings_are_told_to_be_strings(value, kind):
    assert host_name_problem(value) == f"host name {shown(value)} must be a string, got {kind}; quote it"
    assert "must be a string" in vm_name_problem(value)


def test_empty_and_too_long_names():
    assert "empty" in host_name_problem("")
    assert "empty" in vm_name_problem("")
    assert "254 characters" in host_name_problem("a." * 126 + "bc")
    assert host_name_problem(".".join(["a" * 63] * 3) + "." + "b" * 61) is None   # 253 exactly
    assert "label of 64" in host_name_problem("a" * 64)
    assert vm_name_problem("v" * 200) is None
    assert "201 characters" in vm_name_problem("v" * 201)


def test_host_labels_follow_dns():
    assert "ends with '.'" in host_name_problem("h1.")
    assert "starts or ends with '-'" in host_name_problem("h1-.example.org")
    assert vm_name_problem("vm-") is None    # libvirt names need not be DNS labels


def test_shown_never_prints_a_nested_container_or_a_huge_value():
    bomb = [[["x"] * 10] * 10] * 10
    assert shown(bomb) == "a list"
    assert shown(["h1"]) == "['h1']"           # short flat containers are shown
    assert shown(list(range(5))) == "a list"
    assert len(shown("x" * 10_000)) == 60
    assert shown(10 ** 50) == "a huge number"


@pytest.mark.parametrize("address", ["10.0.0.5", "fd00::5", "fe80::1%eth0", "bmc-h1.example.org", "bmc1"])
def test_bmc_addresses_accepted(address):
    assert bmc_address_problem(address) is None


@pytest.mark.parametrize("address, reason", [
    ("1.2.3.999", "not an IP address"), ("10.0.0.5; id", "';'"), ("$(reboot)", "'$'"),
    ("-oProxyCommand=x", "'='"), ("-bmc1", "starts with '-'"), ("fe80::1%$(x)", "scope"), ("", "empty"),
    (3, "must be a string"), ("10.0.0.5%eth0", "no scope"), ("a" * 300, "300 characters")])
def test_bmc_addresses_refused(address, reason):
    problem = bmc_address_problem(address)
    assert problem.startswith("BMC address") and reason in problem
    assert "write an IPv4 address" in problem


@pytest.mark.parametrize("uri", [
    "qemu:///system", "qemu:///session", "qemu+ssh://root@h1/system", "qemu+ssh://h1.example.org:2222/system",
    "qemu+ssh://h1/system?keyfile=/root/.ssh/id_ed25519&no_verify=1", "qemu+tcp://[fd00::1]:16509/system",
    "qemu+tls://10.0.0.5/system", "qemu+unix:///system?socket=/run/libvirt/libvirt-sock"])
def test_libvirt_uris_accepted(uri):
    assert libvirt_uri_problem(uri) is None


@pytest.mark.parametrize("uri, reason", [
    ("xen:///system", "must start with one of"),
    ("qemu:///system; id", "path must be"),
    ("qemu+ssh://h$(id)/system", "'$'"),
    ("qemu+ssh://-oProxyCommand=x/system", "host part"),
    ("qemu+ssh://-h1/system", "not a host name"),
    ("qemu+ssh://h1/system?command=/bin/sh", "'command' is not allowed"),
    ("qemu+ssh://h1/system?netcat=/tmp/x", "'netcat' is not allowed"),
    ("qemu+ssh://h1/system?keyfile=$(id)", "has the value"),
    ("qemu+ssh:///system", "needs a host"),
    ("qemu+unix://h1/system", "takes no host"),
    ("qemu+ssh://h1:99999/system", "port"),
    ("qemu+ssh://ro ot@h1/system", "a space"),
    ("qemu+ssh://h1/system\n", "path must be"),
    ("qemu://h1", "path must be"),
    (None, "must be a string"),
    ("", "1 to 1024"),
])
def test_libvirt_uris_refused(uri, reason):
    problem = libvirt_uri_problem(uri)
    assert problem.startswith("libvirt URI") and reason in problem, problem
    assert "qemu+ssh://root@host.example.org/system" in problem
