# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The project's size rules for plugins/: no function or method over 80 lines, no file over 700 lines."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLUGINS = os.path.join(REPO, "plugins")
MAX_FUNCTION_LINES = 80
MAX_FILE_LINES = 700


def python_files():
    for root, dirs, files in os.walk(PLUGINS):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in sorted(files):
            if name.endswith(".py"):
                path = os.path.join(root, name)
                yield os.path.relpath(path, REPO).replace(os.sep, "/"), path


def long_functions(relpath, path):
    with open(path, "rb") as handle:
        tree = ast.parse(handle.read(), filename=relpath)
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            length = node.end_lineno - node.lineno + 1
            if length > MAX_FUNCTION_LINES:
                yield node.name, node.lineno, length


def test_there_are_plugins_to_check():
    assert len(list(python_files())) > 10


def test_no_function_over_80_lines():
    found = []
    for relpath, path in python_files():
        for name, lineno, length in long_functions(relpath, path):
            found.append("%s:%d %s is %d lines" % (relpath, lineno, name, length))
    assert found == [], "functions over %d lines (extract helpers):\n%s" % (MAX_FUNCTION_LINES, "\n".join(found))


def test_no_file_over_700_lines():
    found = []
    for relpath, path in python_files():
        with open(path, "rb") as handle:
            count = len(handle.read().splitlines())
        if count > MAX_FILE_LINES:
            found.append("%s is %d lines" % (relpath, count))
    assert found == [], "files over %d lines (split them):\n%s" % (MAX_FILE_LINES, "\n".join(found))
