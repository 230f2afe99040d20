"""Data files: duplicate keys, alias bombs, size, depth and non-finite numbers are refused."""
import os

import pytest

from ansible_collections.wavedrain.kvm.plugins.module_utils._documents import (
    ALIAS_BUDGET, MAX_DEPTH, DocumentError, finite_number_problem, load_document, load_document_file)


def refusal(text, name="model.yml", **kwargs):
    with pytest.raises(DocumentError) as info:
        load_document(text, name, **kwargs)
    return info.value


def test_plain_yaml_and_json_are_read():
    assert load_document("hosts:\n  h1: {cpu: 8}\n", "m.yml") == {"hosts": {"h1": {"cpu": 8}}}
    assert load_document('{"hosts": {"h1": {"cpu": 8}}}', "m.json") == {"hosts": {"h1": {"cpu": 8}}}
    assert load_document("", "empty.yml") is None
    assert load_document(b"\xef\xbb\xbfa: 1\n", "bom.yml") == {"a": 1}


def test_merge_keys_still_work():
    text = "defaults: &d {cpu: 8, memory_mb: 1024}\nhosts:\n  h1: {<<: *d, cpu: 16}\n"
    assert load_document(text, "m.yml")["hosts"]["h1"] == {"cpu": 16, "memory_mb": 1024}


def test_duplicate_yaml_key_names_the_key_and_both_lines():
    err = refusal("hosts:\n  h1: {cpu: 1}\n  h2: {cpu: 1}\n  h1: {cpu: 2}\n")
    assert err.line == 4 and "'h1' appears twice" in str(err) and "first on line 2" in str(err)
    assert str(err).startswith("model.yml, line 4: ")


def test_duplicate_json_key_is_refused():
    err = refusal('{"vms": {"a": {}, "a": {}}}', "m.json")
    assert "'a' appears twice" in str(err)


def test_alias_bomb_is_refused_before_it_expands():
    lines = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 9):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*{'a' if i == 1 else 'l%d' % (i - 1)}"] * 9) + "]")
    lines.append("hosts: {h1: {cpu: *l8}}")
    err = refusal("\n".join(lines))
    assert "aliases" in str(err) and str(ALIAS_BUDGET) in str(err)


def test_self_referring_alias_is_refused():
    assert "inside its own anchor" in str(refusal("a: &x [1, *x]\n"))


def test_small_alias_use_is_fine():
    assert load_document("a: &x [1, 2]\nb: *x\n", "m.yml") == {"a": [1, 2], "b": [1, 2]}


@pytest.mark.parametrize("text, name", [("a: .inf\n", "m.yml"), ("a: -.inf\n", "m.yml"), ("a: .nan\n", "m.yml"),
                                        ('{"a": NaN}', "m.json"), ('{"a": {"b": [1e999]}}', "m.json"),
                                        ('{"a": -Infinity}', "m.json")])
def test_non_finite_numbers_are_refused(text, name):
    assert "not a finite number" in str(refusal(text, name))


def test_json_non_finite_names_the_path():
    assert "a.b[0] is inf" in str(refusal('{"a": {"b": [1e999]}}', "m.json"))


@pytest.mark.parametrize("text, name", [("[" * 100 + "]" * 100, "m.yml"), ("[" * 100_000 + "]" * 100_000, "m.json"),
                                        ("[" * 5000 + "]" * 5000, "m.yml")])
def test_deep_nesting_is_refused(text, name):
    assert f"nested more than {MAX_DEPTH}" in str(refusal(text, name))


@pytest.mark.parametrize("text, name, words", [
    ("a: [1, 2\nb: 3\n", "m.yml", "is not valid YAML"),
    ('{"a": 1,}', "m.json", "is not valid JSON"),
    ("a: !!python/object/apply:os.system [id]\n", "m.yml", "could not determine a constructor"),
    ("a: 1\n---\nb: 2\n", "m.yml", "another document"),
    ("a: *nowhere\n", "m.yml", "undefined alias"),
    ("a: " + "9" * 5000 + "\n", "m.yml", "more than 4300 digits"),
    ('{"a": ' + "9" * 5000 + "}", "m.json", "more than 4300 digits"),
    ("? [a]\n: 1\n", "m.yml", "unhashable key"),
])
def test_parse_errors_are_one_clear_error(text, name, words):
    err = refusal(text, name)
    assert isinstance(err, ValueError) and words in str(err) and str(err).startswith(name)
    assert "\n" not in str(err)


def test_size_is_bounded_for_text_and_files(tmp_path):
    assert "more than the 100 bytes allowed" in str(refusal("a: 1\n" * 50, max_bytes=100))
    path = tmp_path / "big.yml"
    path.write_text("a: 1\n" * 50)
    with pytest.raises(DocumentError, match="250 bytes, more than the 100 bytes"):
        load_document_file(path, max_bytes=100)
    path.write_text("a: 1\n")
    assert load_document_file(path, max_bytes=100) == {"a": 1}


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(DocumentError, match="missing.yml: cannot be read: No such file"):
        load_document_file(tmp_path / "missing.yml")
    with pytest.raises(DocumentError, match="is not a regular file"):
        load_document_file(os.devnull)
    bad = tmp_path / "latin1.yml"
    bad.write_bytes(b"a: 1\nname: caf\xe9\n")
    with pytest.raises(DocumentError, match=r"latin1.yml, line 2: byte 14 is not UTF-8"):
        load_document_file(bad)


def test_format_follows_the_extension_unless_given(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"version": 1}')
    assert load_document_file(path) == {"version": 1}
    with pytest.raises(DocumentError, match="is not valid JSON"):
        load_document("a: 1", "inline", fmt="json")


@pytest.mark.parametrize("value, kwargs, words", [
    (float("nan"), {}, "finite"), (float("inf"), {}, "finite"), (True, {}, "must be a number"),
    ("8", {}, "must be a number"), ([1], {}, "got [1]"), ([[1]], {}, "got a list"), (-1, {"minimum": 0}, ">= 0"),
    (0, {"minimum": 0, "allow_equal": False}, "> 0"), (1.5, {"integer": True}, "whole number")])
def test_finite_number_problem(value, kwargs, words):
    problem = finite_number_problem(value, "hosts.h1.cpu", **kwargs)
    assert problem.startswith("hosts.h1.cpu must be") and words in problem


def test_finite_numbers_pass():
    assert finite_number_problem(0, "x", minimum=0) is None
    assert finite_number_problem(2.5, "x", minimum=0, allow_equal=False) is None
    assert finite_number_problem(3.0, "x", integer=True) is None
