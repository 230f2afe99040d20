# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one IPMI path of the collection: `ipmitool` with an argv list.

Used by the engine (plugins/module_utils/_executor), the host_power module behind the
power_on/power_off roles, and nothing else. The password travels in the child's environment
(``ipmitool -E`` reads IPMI_PASSWORD): never on argv, never in a file.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess

from ansible_collections.wavedrain.kvm.plugins.module_utils._names import bmc_address_problem
from ansible_collections.wavedrain.kvm.plugins.module_utils._process import run_command

DEFAULTS = {"port": 623, "interface": "lanplus", "cipher_suite": 3, "privilege_level": "ADMINISTRATOR",
            "timeout_s": 20, "retries": 2}
PRIVILEGE_LEVELS = ("CALLBACK", "USER", "OPERATOR", "ADMINISTRATOR")
INTERFACES = ("lan", "lanplus")


class BmcError(Exception):
    """A BMC did not answer or refused a command; the message names the host and the BMC."""


class Bmc:
    """How to reach one host's BMC. ``problems()`` lists what is wrong with the settings."""

    def __init__(self, host, address, user, password, port=None, interface=None, cipher_suite=None,
                 privilege_level=None, ipmitool="ipmitool", timeout_s=None):
        self.host = host
        self.address = address
        self.user = user
        self.password = password
        self.port = DEFAULTS["port"] if port in (None, "") else port
        self.interface = interface or DEFAULTS["interface"]
        self.cipher_suite = DEFAULTS["cipher_suite"] if cipher_suite in (None, "") else cipher_suite
        self.privilege_level = (privilege_level or DEFAULTS["privilege_level"]).upper()
        self.ipmitool = ipmitool
        self.timeout_s = timeout_s or DEFAULTS["timeout_s"]

    def problems(self):
        out = []
        where = "host %s: " % self.host
        if not self.address:
            out.append(where + "wavedrain_bmc_address is not set (the BMC's IP address or DNS name)")
        else:
            reason = bmc_address_problem(self.address)
            if reason:
                out.append(where + reason)
        if not self.user or not isinstance(self.user, str):
            out.append(where + "wavedrain_bmc_user is not set")
        elif self.user.startswith("-") or any(c in self.user for c in "\0\n"):
            out.append(where + "wavedrain_bmc_user %r is not a user name" % self.user)
        if not self.password:
            out.append(where + "wavedrain_bmc_password is not set (an AWX credential of the type in "
                       "docs/awx/credential_type_ipmi.yml, or a vaulted host variable)")
        try:
            port = int(self.port)
            if not 0 < port < 65536 or str(port) != str(self.port).strip():
                raise ValueError
        except (TypeError, ValueError):
            out.append(where + "wavedrain_bmc_port %r is not a port number (1-65535)" % (self.port,))
        if self.interface not in INTERFACES:
            out.append(where + "wavedrain_bmc_interface %r: use one of %s" % (self.interface, ", ".join(INTERFACES)))
        if not str(self.cipher_suite).isdigit() or int(self.cipher_suite) > 17:
            out.append(where + "wavedrain_bmc_cipher_suite %r: use a cipher suite id 0-17 (3 or 17 usually)"
                       % (self.cipher_suite,))
        if self.privilege_level not in PRIVILEGE_LEVELS:
            out.append(where + "wavedrain_bmc_privilege_level %r: use one of %s"
                       % (self.privilege_level, ", ".join(PRIVILEGE_LEVELS)))
        return out

    def argv(self, *command):
        """ipmitool argv; -E: the password comes from IPMI_PASSWORD in the child's environment."""
        return [self.ipmitool, "-I", self.interface, "-H", self.address, "-p", str(int(self.port)),
                "-U", self.user, "-E", "-C", str(self.cipher_suite), "-L", self.privilege_level,
                "-N", "2", "-R", str(DEFAULTS["retries"])] + list(command)

    def run(self, *command):
        env = dict(os.environ, IPMI_PASSWORD=str(self.password))
        try:
            rc, out, err = run_command(self.argv(*command), self.timeout_s, env=env)
        except subprocess.TimeoutExpired:
            raise BmcError("BMC of %s at %s:%s does not answer within %s s (ipmitool %s)"
                           % (self.host, self.address, self.port, self.timeout_s, " ".join(command)))
        except OSError as exc:
            raise BmcError("cannot run %s for the BMC of %s: %s (install ipmitool on the controller)"
                           % (self.ipmitool, self.host, exc))
        if rc != 0:
            raise BmcError("BMC of %s at %s:%s does not answer or refuses 'ipmitool %s': %s"
                           % (self.host, self.address, self.port, " ".join(command),
                              (err or out).strip()[-300:] or "rc %d" % rc))
        return out

    def power_status(self):
        """'on' or 'off'."""
        out = self.run("chassis", "power", "status")
        if "is on" in out:
            return "on"
        if "is off" in out:
            return "off"
        raise BmcError("BMC of %s at %s answered %r to 'chassis power status'" % (self.host, self.address, out.strip()))

    def power(self, verb):
        """verb: on, off, soft, cycle, reset."""
        self.run("chassis", "power", verb)
