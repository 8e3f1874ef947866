"""misnomer.c.params: parameter lists and return types read off a declarator's text."""

from __future__ import annotations

import pytest

from misnomer.c.params import parse_params, return_kind_of, split_top_level
from misnomer.facts import Param


@pytest.mark.parametrize("text", ["()", "(void)", "( void )", ""])
def test_no_parameters(text):
    assert parse_params(text) == []


def test_named_parameters_with_types_and_pointers():
    assert parse_params("(const struct blob *b, size_t *len, int flags)") == [
        Param("b", "const struct blob *", True),
        Param("len", "size_t *", True),
        Param("flags", "int", False),
    ]


def test_pointer_to_pointer_and_enum():
    assert parse_params("(char **argv, enum mode m)") == [
        Param("argv", "char **", True),
        Param("m", "enum mode", False),
    ]


def test_function_pointer_parameter():
    params = parse_params("(int (*cb)(void *, int), void *arg)")
    assert params == [Param("cb", "int (*cb)(void *, int)", True), Param("arg", "void *", True)]


def test_array_parameter_is_a_pointer():
    buf, n = parse_params("(char buf[16], u8 grid[][4])")
    assert (buf.name, buf.is_pointer) == ("buf", True)
    assert (n.name, n.is_pointer) == ("grid", True)


def test_variadic_parameters_are_dropped():
    assert parse_params("(const char *fmt, ...)") == [Param("fmt", "const char *", True)]


def test_whitespace_and_newlines_collapse():
    assert parse_params("(unsigned long  \n\t  flags,\n struct foo\t*f)") == [
        Param("flags", "unsigned long", False),
        Param("f", "struct foo *", True),
    ]


def test_unnamed_struct_parameter():
    assert parse_params("(struct foo *)") == [Param("", "struct foo *", True)]
    assert parse_params("(struct foo)") == [Param("", "struct foo", False)]


def test_kr_identifier_list_gives_bare_names():
    assert parse_params("(a, b)") == [Param("a", "", False), Param("b", "", False)]


def test_split_top_level_ignores_nested_commas():
    assert split_top_level("int (*f)(int, int), int x, char a[2]") == \
        ["int (*f)(int, int)", " int x", " char a[2]"]


@pytest.mark.parametrize("rtype, kind", [
    ("void", "void"),
    ("bool", "bool"),
    ("_Bool", "bool"),
    ("int", "int"),
    ("const int", "int"),
    ("unsigned long", "int"),
    ("long long", "int"),
    ("size_t", "int"),
    ("ssize_t", "int"),
    ("u32", "int"),
    ("__le32", "int"),
    ("void *", "pointer"),
    ("const char *", "pointer"),
    ("struct foo *", "pointer"),
    ("struct foo", "other"),
    ("enum bar", "other"),
])
def test_return_kind_of(rtype, kind):
    assert return_kind_of(rtype) == kind
