# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The shell, as far as .qmail pipes need it: a pipe line word-split and expanded as /bin/sh -c would.

Pure Python; the route checks (delivery_programs.py) read each '|' line with parse_shell.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class ShellLine:
    """A pipe line word-split and expanded as /bin/sh -c would, for simple commands.

    words: the argv after expansion (meaningful when simple); simple: no operators,
    substitutions or redirections; unquoted: variables expanded without double
    quotes (word-split by sh); used: every variable referenced.
    """

    def __init__(self):
        self.words = []
        self.simple = True
        self.unquoted = []
        self.used = []


def _skip_substitution(text, i):
    """Index just after the ')' closing the $( that starts before i (quote-aware)."""
    depth = 1
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\":
            i += 2
            continue
        if c == "'":
            end = text.find("'", i + 1)
            i = n if end < 0 else end + 1
            continue
        if c == '"':
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 2
                    continue
                if text.startswith("$(", i):
                    i = _skip_substitution(text, i + 2)
                    continue
                i += 1
            i += 1
            continue
        if c == "(":
            depth += 1
        elif c == ")":
            depth -= 1
            if depth == 0:
                return i + 1
        i += 1
    return n


def parse_shell(text, env):
    """Expand and split a pipe line (see ShellLine); unknown variables expand to ''."""
    return _Splitter(text, env).run()


class _Splitter:
    """One run of parse_shell over text: the word being built (cur, have) and the ShellLine."""

    def __init__(self, text, env):
        self.text = text
        self.env = env
        self.n = len(text)
        self.result = ShellLine()
        self.cur = []
        self.have = False

    def run(self):
        text = self.text
        i = 0
        while i < self.n:
            c = text[i]
            if c in " \t\n":
                self.end_word()
                i += 1
            elif c == "#" and not self.have:
                break
            elif c == "'":
                i = self.single_quoted(i)
            elif c == '"':
                i = self.double_quoted(i)
            elif c == "\\":
                if i + 1 < self.n:
                    self.cur.append(text[i + 1])
                    self.have = True
                i += 2
            elif text.startswith("$(", i):
                i = self.substitution(i)
                self.have = True
            elif c == "$":
                i = self.unquoted_variable(i)
            elif c == "`":
                i = self.backquoted(i)
            elif c in ";&|<>()":
                self.end_word()
                self.result.simple = False
                i += 1
            else:
                self.cur.append(c)
                self.have = True
                i += 1
        self.end_word()
        return self.result

    def end_word(self):
        if self.have:
            self.result.words.append("".join(self.cur))
        del self.cur[:]
        self.have = False

    def variable(self, i):
        """(name or None, next index, plain) for a '$' at i."""
        text = self.text
        if text.startswith("${", i):
            end = text.find("}", i + 2)
            if end < 0:
                return None, len(text), False
            inner = text[i + 2:end]
            match = _NAME.match(inner)
            if match and match.end() == len(inner):
                return inner, end + 1, True
            if match:
                return match.group(0), end + 1, False
            return None, end + 1, False
        match = _NAME.match(text, i + 1)
        if match:
            return match.group(0), match.end(), True
        return None, i + 1, True

    def nested(self, inner):
        sub = parse_shell(inner, self.env)
        self.result.unquoted.extend(sub.unquoted)
        self.result.used.extend(sub.used)

    def single_quoted(self, i):
        """The word part '...' starting at i; the index after it."""
        end = self.text.find("'", i + 1)
        if end < 0:
            self.result.simple = False
            end = self.n
        self.cur.append(self.text[i + 1:end])
        self.have = True
        return end + 1

    def double_quoted(self, i):
        """The word part "..." starting at i (expanded, never split); the index after it."""
        text = self.text
        n = self.n
        self.have = True
        i += 1
        while i < n and text[i] != '"':
            ch = text[i]
            if ch == "\\" and i + 1 < n and text[i + 1] in '$`"\\\n':
                self.cur.append(text[i + 1])
                i += 2
            elif text.startswith("$(", i):
                i = self.substitution(i)
            elif ch == "$":
                name, i, plain = self.variable(i)
                if name is None:
                    self.cur.append("$")
                    continue
                self.result.used.append(name)
                if not plain:
                    self.result.simple = False
                self.cur.append(self.env.get(name, ""))
            elif ch == "`":
                i = self.backquoted(i)
            else:
                self.cur.append(ch)
                i += 1
        if i >= n:
            self.result.simple = False
        return i + 1

    def substitution(self, i):
        """A $(...) starting at i: its variables count, the line is not simple; the index after it."""
        end = _skip_substitution(self.text, i + 2)
        self.nested(self.text[i + 2:end - 1])
        self.result.simple = False
        return end

    def backquoted(self, i):
        """A `...` starting at i, as substitution."""
        end = self.text.find("`", i + 1)
        end = self.n if end < 0 else end
        self.nested(self.text[i + 1:end])
        self.result.simple = False
        return end + 1

    def unquoted_variable(self, i):
        """A $NAME or ${...} outside quotes: expanded and word-split; the index after it."""
        name, i, plain = self.variable(i)
        if name is None:
            self.cur.append("$")
            self.have = True
            return i
        self.result.used.append(name)
        self.result.unquoted.append(name)
        if not plain:
            self.result.simple = False
        value = self.env.get(name, "")
        if not value:
            return i
        if value[0] in " \t\n":
            self.end_word()
        fields = value.split()
        for index, field in enumerate(fields):
            self.cur.append(field)
            self.have = True
            if index < len(fields) - 1:
                self.end_word()
        if value[-1] in " \t\n":
            self.end_word()
        return i
