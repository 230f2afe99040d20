"""Names and addresses that may reach a command line: what is accepted, and why not.

Pure Python (no Ansible import): the planner, the inventory model, the filters and
the executor all call it. Each ``*_problem`` function returns None when the value is
acceptable, else one line naming the value, what is wrong and how to fix it.

The rules are deliberately narrower than what libvirt itself would take: a name must
be safe as one argv element, inside a ``qemu+ssh://NAME/system`` URI, in a file name
and in a log line, whatever tool later receives it.

- host names: DNS names as operators write them (letters, digits, '-', '_' and '.'
  between labels), 1..253 characters, labels of at most 63, starting with a letter or
  digit (so ``--help`` can never be read as an option), no empty label (no ``..``);
- VM names (libvirt domain names): letters, digits, '-', '_', '.', 1..200 characters,
  starting with a letter or digit, no ``..``;
- BMC addresses: an IPv4 or IPv6 address, or a host name as above;
- libvirt URIs: qemu, qemu+ssh, qemu+tcp, qemu+tls or qemu+unix, with a validated user,
  host and port, path /system or /session, and only harmless query parameters.
"""

from __future__ import annotations

import ipaddress
import re

HOST_NAME_MAX = 253
HOST_LABEL_MAX = 63
VM_NAME_MAX = 200
URI_MAX = 1024
LIBVIRT_SCHEMES = ("qemu", "qemu+ssh", "qemu+tcp", "qemu+tls", "qemu+unix")
LIBVIRT_PATHS = ("/system", "/session")
# libvirt URI parameters that only select files, sockets or checks. Left out on purpose:
# 'command' and 'netcat' name programs to run, 'name' rewrites the remote URI.
LIBVIRT_QUERY_KEYS = ("keyfile", "no_verify", "no_tty", "known_hosts", "known_hosts_verify",
                      "sshauth", "socket", "mode", "proxy", "pkipath", "tls_priority")

_NAME_CHARS = re.compile(r"[A-Za-z0-9._-]+")
_LABEL = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?")
_VM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_USER = re.compile(r"[A-Za-z0-9_][A-Za-z0-9._-]*")
_QUERY_VALUE = re.compile(r"[A-Za-z0-9._/~,:+-]*")
_SCOPE_ID = re.compile(r"[A-Za-z0-9._-]+")
_CHAR_NAMES = {" ": "a space", "\t": "a tab", "\n": "a newline", "\r": "a carriage return",
               "$": "'$'", "`": "a backtick", ";": "';'", "&": "'&'", "|": "'|'", "/": "'/'",
               "\\": "a backslash", "'": "a quote", '"': "a double quote", "*": "'*'",
               "(": "'('", ")": "')'", "<": "'<'", ">": "'>'", ":": "':'", "@": "'@'"}
_HOST_FIX = ("use letters, digits, '-', '_' and '.' between labels, start with a letter or digit, "
             f"at most {HOST_NAME_MAX} characters")
_VM_FIX = ("use letters, digits, '-', '_' and '.', start with a letter or digit, "
           f"at most {VM_NAME_MAX} characters")


def shown(value, limit=60):
    """``repr(value)`` cut to ``limit`` characters, safe for huge or hostile values."""
    if isinstance(value, str):
        text = repr(value[:limit]) if len(value) <= limit else repr(value[:limit])[:-1] + "..."
    elif _scalar(value):
        text = repr(value) if not isinstance(value, int) or abs(value) < 10 ** 40 else "a huge number"
    elif isinstance(value, (list, tuple, dict)) and len(value) <= 4 and all(
            _scalar(v) for v in (list(value.items()) and [x for kv in value.items() for x in kv]
                                 if isinstance(value, dict) else value)):
        text = repr(value)   # a short flat container is shown; a deep one may be an alias bomb
    else:
        text = "a " + type(value).__name__
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _scalar(value):
    return value is None or (isinstance(value, (int, float, bool)) or (isinstance(value, str) and len(value) <= 100))


def _bad_character(name):
    """Describe the first character outside letters, digits, '-', '_', '.'."""
    for char in name:
        if not _NAME_CHARS.fullmatch(char):
            if char in _CHAR_NAMES:
                return f"contains {_CHAR_NAMES[char]}"
            if ord(char) < 32 or ord(char) == 127:
                return f"contains a control character (code {ord(char)})"
            return f"contains {char!r}"
    return None


def _string_problem(name, kind, longest):
    """Type and emptiness problems as a whole message; else the reason a string is refused."""
    if not isinstance(name, str):
        return f"{kind} name {shown(name)} must be a string, got {type(name).__name__}; quote it", True
    if not name:
        return f"{kind} name is empty; give the {kind} its name", True
    if len(name) > longest:
        return f"it is {len(name)} characters long, more than {longest}", False
    bad = _bad_character(name)
    if bad:
        return f"it {bad}", False
    if not name[0].isalnum():
        return f"it starts with {name[0]!r}, which a command could read as an option", False
    if ".." in name:
        return "it contains '..'", False
    return None, False


def host_name_problem(name):
    """None if ``name`` is an acceptable host name, else the reason and the fix."""
    reason, whole = _string_problem(name, "host", HOST_NAME_MAX)
    if whole:
        return reason
    if reason is None:
        for label in name.split("."):
            if not label:
                reason = "it ends with '.'"
            elif len(label) > HOST_LABEL_MAX:
                reason = f"it has a label of {len(label)} characters, DNS allows {HOST_LABEL_MAX}"
            elif not _LABEL.fullmatch(label):
                reason = f"its label {shown(label)} starts or ends with '-'"
            if reason:
                break
    if reason is None:
        return None
    return f"host name {shown(name)} is not a valid DNS/libvirt host name ({reason}); {_HOST_FIX}"


def vm_name_problem(name):
    """None if ``name`` is an acceptable VM (libvirt domain) name, else the reason and the fix."""
    reason, whole = _string_problem(name, "VM", VM_NAME_MAX)
    if whole:
        return reason
    if reason is None and not _VM_NAME.fullmatch(name):   # belt and braces: the rules above
        reason = "it is not accepted"
    if reason is None:
        return None
    return f"VM name {shown(name)} is not a valid libvirt domain name ({reason}); {_VM_FIX}"


def _ip_problem(text):
    """None if ``text`` is an IPv4/IPv6 address (with a plain scope id), else a reason."""
    address, dummy, scope = text.partition("%")
    if scope and not _SCOPE_ID.fullmatch(scope):
        return f"its IPv6 scope {shown(scope)} is not an interface name"
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return "not an IP address"
    if scope and ":" not in address:
        return "an IPv4 address has no scope"
    return None


def bmc_address_problem(address):
    """None if ``address`` is an IPv4/IPv6 address or a host name, else the reason and the fix."""
    fix = "write an IPv4 address (10.0.0.5), an IPv6 address (fd00::5) or a DNS name (bmc-h1.example.org)"
    if not isinstance(address, str):
        return f"BMC address {shown(address)} must be a string, got {type(address).__name__}; {fix}"
    if not address:
        return f"BMC address is empty; {fix}"
    if len(address) > HOST_NAME_MAX:
        return f"BMC address {shown(address)} is {len(address)} characters long; {fix}"
    if ":" in address or "%" in address or re.fullmatch(r"[0-9.]+", address):
        reason = _ip_problem(address)
        return None if reason is None else f"BMC address {shown(address)}: {reason}; {fix}"
    reason, dummy = _string_problem(address, "BMC", HOST_NAME_MAX)
    if reason is None and host_name_problem(address) is not None:
        reason = "it is not a DNS name"
    return None if reason is None else f"BMC address {shown(address)} is refused ({reason}); {fix}"


def _uri_host_problem(host):
    """Problems of the [user@]host[:port] part of a libvirt URI ('' is accepted)."""
    user, at, hostport = host.rpartition("@")
    if at and not _USER.fullmatch(user):
        return f"user {shown(user)} is not a plain user name"
    if hostport.startswith("["):
        address, bracket, port = hostport[1:].partition("]")
        if not bracket or _ip_problem(address) is not None or ":" not in address:
            return f"{shown(hostport)} is not a bracketed IPv6 address"
        port = port[1:] if port.startswith(":") else port
    else:
        address, dummy, port = hostport.partition(":")
        if address and host_name_problem(address) is not None and _ip_problem(address) is not None:
            return f"host {shown(address)} is not a host name or IP address"
    if port and not (port.isdigit() and port.isascii() and 0 < int(port) < 65536):
        return f"port {shown(port)} is not a number between 1 and 65535"
    if at and not address:
        return "a user is given without a host"
    return None


def _uri_query_problem(query):
    for pair in query.split("&"):
        key, equal, value = pair.partition("=")
        if key not in LIBVIRT_QUERY_KEYS:
            return (f"parameter {shown(key)} is not allowed (allowed: {', '.join(LIBVIRT_QUERY_KEYS)})")
        if not equal or not _QUERY_VALUE.fullmatch(value):
            return f"parameter {key} has the value {shown(value)}; use letters, digits and . _ / ~ , : + -"
    return None


def libvirt_uri_problem(uri):
    """None if ``uri`` is a libvirt QEMU URI safe to pass as one argv element, else why not."""
    fix = "write it as qemu:///system or qemu+ssh://root@host.example.org/system"
    if not isinstance(uri, str):
        return f"libvirt URI {shown(uri)} must be a string, got {type(uri).__name__}; {fix}"
    if not uri or len(uri) > URI_MAX:
        return f"libvirt URI {shown(uri)} must be 1 to {URI_MAX} characters; {fix}"
    scheme, sep, rest = uri.partition("://")
    if not sep or scheme not in LIBVIRT_SCHEMES:
        return (f"libvirt URI {shown(uri)} must start with one of "
                f"{', '.join(s + '://' for s in LIBVIRT_SCHEMES)}; {fix}")
    rest, question, query = rest.partition("?")
    host, slash, path = rest.partition("/")
    bad = _bad_character(host.replace("@", "").replace(":", "").replace("[", "").replace("]", ""))
    if bad:
        reason = f"its host part {bad}"
    elif "/" + path not in LIBVIRT_PATHS or not slash:
        reason = f"its path must be {' or '.join(LIBVIRT_PATHS)}, got {shown('/' + path)}"
    else:
        reason = _uri_host_problem(host)
    if reason is None and scheme in ("qemu+ssh", "qemu+tcp", "qemu+tls") and not host:
        reason = f"{scheme} needs a host"
    if reason is None and scheme == "qemu+unix" and host:
        reason = "qemu+unix takes no host (the socket is local)"
    if reason is None and question:
        reason = _uri_query_problem(query)
    return None if reason is None else f"libvirt URI {shown(uri)}: {reason}; {fix}"
