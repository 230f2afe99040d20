# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The execution engine: runs a plan's action graph concurrently against libvirt and the BMCs.

- settings.py  what the operator chose (timeouts, policies, selected waves and islands)
- selection.py which actions of the plan this run covers (waves, islands)
- journal.py   the run journal (one event per line, appended as it happens) and the run lock
- live.py      the live state of the hosts, what it shows done, and the checks before acting
- report.py    the run report (one schema, docs/execution.md) and its text table
- engine.py    the scheduler (graphlib.TopologicalSorter + a thread per running action)
Backends: plugins/module_utils/_libvirt.py (virsh) and _ipmi.py (ipmitool), argv only.
"""
