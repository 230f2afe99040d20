"""Unit tests run on the newest ansible-core and on the oldest one the collection supports
(meta/runtime.yml, `make unit-oldest`). ansible-core < 2.19 has no
ansible.module_utils.testing.patch_module_args: provide the classic equivalent there."""
import contextlib
import json
import sys
import types

try:
    from ansible.module_utils.testing import patch_module_args  # noqa: F401  pylint: disable=unused-import
except ImportError:
    from ansible.module_utils import basic
    from ansible.module_utils.common.text.converters import to_bytes

    @contextlib.contextmanager
    def _patch_module_args(args=None):
        args = dict(args or {})
        args.setdefault("_ansible_remote_tmp", "/tmp")
        args.setdefault("_ansible_keep_remote_files", False)
        saved = basic._ANSIBLE_ARGS
        basic._ANSIBLE_ARGS = to_bytes(json.dumps({"ANSIBLE_MODULE_ARGS": args}))
        try:
            yield
        finally:
            basic._ANSIBLE_ARGS = saved

    _testing = types.ModuleType("ansible.module_utils.testing")
    _testing.patch_module_args = _patch_module_args
    sys.modules["ansible.module_utils.testing"] = _testing

try:
    from ansible.module_utils import _internal  # noqa: F401  pylint: disable=unused-import
except ImportError:   # < 2.19: modules report warnings in their result whatever the process
    sys.modules["ansible.module_utils._internal"] = types.ModuleType("ansible.module_utils._internal")
