"""Read YAML and JSON data files (models, plans, inventories) with bounded cost.

Pure Python (no Ansible import). Every problem becomes one ``DocumentError`` (a
``ValueError``) naming the file, the line when known, and the fix:

- size: a document larger than ``max_bytes`` (default ``MAX_BYTES``, 8 MiB) is refused
  before it is parsed; files are read at most ``max_bytes + 1`` bytes, and only regular
  files are read (no FIFO or device that never ends);
- duplicate keys in a mapping are refused (YAML and JSON), naming the key and its line;
- YAML aliases are allowed (``&defaults`` / ``<<: *defaults`` are common in hand-written
  models) but their expansion is bounded: the document expanded as a tree may hold at
  most ``ALIAS_BUDGET`` nodes more than the text itself, which refuses alias bombs
  ("billion laughs") before anything walks or prints them;
- nesting deeper than ``MAX_DEPTH`` is refused;
- non-finite numbers (``.inf``, ``.nan``, JSON ``NaN``/``Infinity``, ``1e999``) are refused:
  no model, plan or inventory has a use for them, and they break every comparison;
- only the safe YAML types are built (no Python objects), one document per file.
"""

from __future__ import annotations

import json
import math
import os
import stat

from ._names import shown as _shown

try:
    import yaml
except ImportError:   # PyYAML comes with ansible-core; a bare Python may lack it
    yaml = None

MAX_BYTES = 8 * 1024 * 1024
MAX_DEPTH = 64
ALIAS_BUDGET = 100_000


class DocumentError(ValueError):
    """A data file that cannot be read; ``str()`` is one line naming file, line and fix."""

    def __init__(self, source, problem, line=None):
        self.source = source
        self.problem = problem
        self.line = line
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {problem}")


def finite_number_problem(value, what, minimum=None, allow_equal=True, integer=False):
    """None if ``value`` is a finite number (not a bool) within bounds, else the reason.

    ``minimum`` with ``allow_equal=False`` means strictly greater. Names ``what`` in the
    message, which never prints a container (it may be huge).
    """
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{what} must be a number, got {_shown(value)}; write a plain number, unquoted"
    if isinstance(value, float) and not math.isfinite(value):
        return f"{what} must be a finite number, got {value!r}; write a real value"
    if isinstance(value, int) and abs(value) > 2 ** 53:
        return f"{what} is too large ({_shown(value)}); write a realistic value"
    if integer and value != int(value):
        return f"{what} must be a whole number, got {value!r}"
    if minimum is not None and (value < minimum or (value == minimum and not allow_equal)):
        sign = ">=" if allow_equal else ">"
        return f"{what} must be {sign} {minimum:g}, got {value!r}"
    return None


def _format_of(source_name, fmt):
    if fmt is not None:
        if fmt not in ("json", "yaml"):
            raise ValueError(f"fmt must be 'json' or 'yaml', got {fmt!r}")
        return fmt
    return "json" if str(source_name).lower().endswith(".json") else "yaml"


def load_document(text, source_name, max_bytes=MAX_BYTES, fmt=None):
    """Parse one YAML or JSON document from ``text`` (str or bytes); raise ``DocumentError``.

    ``source_name`` names the document in messages and, unless ``fmt`` ('json' or 'yaml')
    is given, chooses the format: JSON for a name ending in .json, YAML otherwise.
    """
    fmt = _format_of(source_name, fmt)
    if isinstance(text, bytes):
        text = _decode(text, source_name, max_bytes)
    elif not isinstance(text, str):
        raise DocumentError(source_name, f"expected text, got {type(text).__name__}")
    if len(text) > max_bytes and len(text.encode("utf-8")) > max_bytes:
        raise DocumentError(source_name, _too_big(len(text.encode("utf-8")), max_bytes))
    try:
        data = _load_json(text, source_name) if fmt == "json" else _load_yaml(text, source_name)
    except RecursionError:
        raise DocumentError(source_name, f"nested more than {MAX_DEPTH} levels deep; flatten it") from None
    except DocumentError:
        raise
    except ValueError as exc:   # e.g. an integer of more than 4300 digits
        problem = _one_line(exc)
        if "integer string conversion" in problem:
            problem = "it holds a number of more than 4300 digits; write a real value"
        raise DocumentError(source_name, f"cannot be read: {problem}") from None
    _check_tree(data, source_name)
    return data


def load_document_file(path, max_bytes=MAX_BYTES, fmt=None):
    """Read and parse the YAML or JSON file at ``path``; raise ``DocumentError``."""
    path = os.fspath(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer before we can refuse it
        with os.fdopen(os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)), "rb") as handle:
            info = os.fstat(handle.fileno())
            if not _is_regular(info):
                raise DocumentError(path, "is not a regular file; give the path of a YAML or JSON file")
            if info.st_size > max_bytes:
                raise DocumentError(path, _too_big(info.st_size, max_bytes))
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise DocumentError(path, f"cannot be read: {exc.strerror or exc}; check the path and "
                                  f"its permissions") from None
    return load_document(_decode(raw, path, max_bytes), path, max_bytes, fmt)


def _is_regular(info):
    return stat.S_ISREG(info.st_mode)


def _too_big(size, max_bytes):
    return (f"is {size} bytes, more than the {max_bytes} bytes allowed; split it or raise the "
            f"size limit")


def _decode(raw, source_name, max_bytes):
    if len(raw) > max_bytes:
        raise DocumentError(source_name, _too_big(len(raw), max_bytes))
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise DocumentError(source_name, f"byte {exc.start} is not UTF-8; save the file as UTF-8",
                            line) from None


def _one_line(exc):
    return " ".join(str(exc).split())


# -- JSON -----------------------------------------------------------------------

def _load_json(text, source_name):
    def pairs(items):
        out = {}
        for key, value in items:
            if key in out:
                raise DocumentError(source_name, f"key {_shown(key)} appears twice in the same object; "
                                                 f"keep one")
            out[key] = value
        return out

    try:
        return json.loads(text, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:
        raise DocumentError(source_name, f"is not valid JSON ({exc.msg}, column {exc.colno}); "
                                         f"fix the syntax there", exc.lineno) from None


# -- YAML -----------------------------------------------------------------------

if yaml is not None:
    class _BoundedLoader(yaml.SafeLoader):   # pylint: disable=too-many-ancestors
        """SafeLoader refusing duplicate keys and non-finite floats, with line numbers."""

        def construct_mapping(self, node, deep=False):
            if isinstance(node, yaml.MappingNode):
                seen = {}
                for key_node, dummy in node.value:
                    if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(key_node, yaml.ScalarNode):
                        continue
                    key = self.construct_object(key_node)
                    if key in seen:
                        raise DocumentError(
                            self.source_name, f"key {_shown(key)} appears twice in the same mapping "
                            f"(first on line {seen[key]}); keep one", key_node.start_mark.line + 1)
                    seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

        def construct_yaml_float(self, node):
            value = super().construct_yaml_float(node)
            if not math.isfinite(value):
                raise DocumentError(self.source_name, f"{node.value!r} is not a finite number; "
                                    f"write a real value", node.start_mark.line + 1)
            return value

    _BoundedLoader.add_constructor("tag:yaml.org,2002:float", _BoundedLoader.construct_yaml_float)


def _expanded_size(root, source_name):
    """Nodes of the YAML graph counted as a tree (each alias expanded), without expanding.

    Returns (expanded, distinct). An alias inside its own anchor is refused.
    """
    sizes, busy, stack = {}, set(), [(root, False)]
    while stack:
        node, ready = stack.pop()
        if id(node) in sizes:
            continue
        children = []
        if isinstance(node, yaml.SequenceNode):
            children = node.value
        elif isinstance(node, yaml.MappingNode):
            children = [n for pair in node.value for n in pair]
        if ready:
            sizes[id(node)] = 1 + sum(sizes[id(c)] for c in children)
            busy.discard(id(node))
            continue
        busy.add(id(node))
        stack.append((node, True))
        for child in children:
            if id(child) in busy:
                raise DocumentError(source_name, "an alias (*name) is used inside its own anchor "
                                    "(&name); a data file cannot refer to itself",
                                    child.start_mark.line + 1)
            if id(child) not in sizes:
                stack.append((child, False))
    return sizes[id(root)], len(sizes)


def _load_yaml(text, source_name):
    if yaml is None:
        raise DocumentError(source_name, "is YAML but PyYAML is not installed; install PyYAML "
                                         "or give the file as JSON")
    loader = _BoundedLoader(text)
    loader.source_name = source_name
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        expanded, distinct = _expanded_size(node, source_name)
        if expanded - distinct > ALIAS_BUDGET:
            raise DocumentError(source_name, f"its aliases (*name) expand to {expanded} values, more than "
                                             f"{ALIAS_BUDGET} beyond the text; write the values out "
                                             f"or use fewer nested aliases")
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = _one_line(exc.problem or exc.context or "syntax error")
        raise DocumentError(source_name, f"is not valid YAML ({problem}, column "
                                         f"{mark.column + 1 if mark else '?'}); fix the syntax there",
                            mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise DocumentError(source_name, f"is not valid YAML: {_one_line(exc)}") from None
    finally:
        loader.dispose()


# -- after parsing --------------------------------------------------------------

def _check_tree(data, source_name):
    """Refuse nesting deeper than MAX_DEPTH and non-finite floats (JSON NaN, 1e999)."""
    stack = [(data, 0, "")]
    while stack:
        value, depth, path = stack.pop()
        if depth > MAX_DEPTH:
            raise DocumentError(source_name, f"nested more than {MAX_DEPTH} levels deep at "
                                             f"{_cut(path)}; flatten it")
        if isinstance(value, float) and not math.isfinite(value):
            raise DocumentError(source_name, f"{_cut(path or 'the document')} is {value!r}, not a "
                                             f"finite number; write a real value")
        if isinstance(value, dict):
            stack.extend((v, depth + 1, f"{path}.{k}" if path else str(k)) for k, v in value.items())
        elif isinstance(value, list):
            stack.extend((v, depth + 1, f"{path}[{i}]") for i, v in enumerate(value))


def _cut(path, limit=120):
    return path if len(path) <= limit else "..." + path[-(limit - 3):]
