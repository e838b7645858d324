# -*- coding: utf-8 -*-
# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The MIME connector's keys in to.ini and tombsmtp.ini: the files' new text, and what must be fixed by hand first.

The teamware.qmail.mime_connector_files module owns the connector's keys (``connector_keys.TO_INI_KEYS`` in ``[MIME]`` of
to.ini, the top-level ``own_node`` lines of tombsmtp.ini) and writes them with this; every other line (comments,
other keys and sections) stays as it is.  The edits are the ones the role made with community.general.ini_file up to
0.1.0 (state present, exclusive, ignore_spaces, modify_inactive_option false, allow_no_value false, create), so that
a host sees the same bytes: a file is read as ini_file reads it (UTF-8 with an optional BOM, universal newlines) and
written back only when a key changes (then with LF line ends and no BOM); a key's lines that hold a wanted value stay
where they are, spaces around ``=`` and all, the other lines of the key take the missing values in order or go, and
what is still missing goes after the section's last line that is neither blank nor a comment (a new section at the
end of the file).  The own_node lines must also come in the order of the settings (an alias right after its base
address, 5.2.4): when keeping the lines in place would leave another order, they are all removed and written again.
``tests/unit/plugins/module_utils/test_connector_files.py`` holds every file against ini_file's own output.

Pure Python: no host access (the module reads and writes the files).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re

from ansible_collections.teamware.qmail.plugins.module_utils.connector_keys import MIME_SECTION, TO_INI, TO_INI_KEYS, TOMBSMTP_INI

OWN_NODE = "own_node"

_ACTIVE = r"[ \t]*%s[ \t]*(=|$)[ \t]*(.*)"
_BLANK_OR_COMMENT = re.compile(r"^[ \t]*([#;].*)?$")
_ANY_KEY = re.compile(r"^[ \t]*([A-Za-z0-9_.-]+)[ \t]*(=|$)")


def read_lines(text):
    """The lines of a file's text as ini_file reads them: no BOM, universal newlines, each line with its "\\n"."""
    if text.startswith("\ufeff"):
        text = text[1:]
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    lines = [line + "\n" for line in text.split("\n")]
    lines[-1] = lines[-1][:-1]
    return lines if lines[-1] else lines[:-1]


def _active(option, line):
    """An active (not commented) ``option = value`` line: its value, or None."""
    match = re.match(_ACTIVE % re.escape(option), line)
    return match.group(2) if match else None


class _Section:
    """One section of the file's lines: ``head`` (the header's index; -1: the top of the file) to ``end``."""

    def __init__(self, lines, name):
        self.head, self.end = -1, len(lines)
        if name:
            header = re.compile(r"^\[\s*%s\s*]" % re.escape(name.strip()))
            starts = [index for index, line in enumerate(lines) if header.match(line)]
            if not starts:
                self.head = self.end = None
                return
            self.head = starts[0]
        for index in range(self.head + 1, len(lines)):
            if lines[index].startswith("["):
                self.end = index
                break

    def found(self):
        return self.head is not None


def _fixed_end(lines):
    """An empty file reads as one empty line; a last line without its newline gets one (a change)."""
    if not lines:
        return ["\n"], False
    if not lines[-1].endswith("\n"):
        return lines[:-1] + [lines[-1] + "\n"], True
    return list(lines), False


def set_option(lines, section, option, values):
    """ini_file's edit of one key (state present, exclusive, ...): (new lines, changed). section None: top of the file."""
    lines, changed = _fixed_end(lines)
    wanted = []
    for value in values:
        if value not in wanted:
            wanted.append(value)
    place = _Section(lines, section)
    if not place.found():
        return lines + ["[%s]\n" % section] + ["%s = %s\n" % (option, value) for value in wanted], True
    body = lines[place.head + 1:place.end]
    keep = [False] * len(body)
    for index, line in enumerate(body):
        value = _active(option, line)
        if value is not None and value in wanted:
            keep[index] = True
            wanted.remove(value)
    for index, line in enumerate(body):
        if not wanted:
            break
        if not keep[index] and _active(option, line) is not None:
            body[index] = "%s = %s\n" % (option, wanted.pop(0))
            keep[index] = changed = True
    new_body = [line for index, line in enumerate(body) if keep[index] or _active(option, line) is None]
    changed = changed or len(new_body) != len(body)
    if wanted:
        at = len(new_body)
        while at > 0 and _BLANK_OR_COMMENT.match(new_body[at - 1]):
            at -= 1
        new_body[at:at] = ["%s = %s\n" % (option, value) for value in wanted]
        changed = True
    return lines[:place.head + 1] + new_body + lines[place.end:], changed


def remove_option(lines, section, option):
    """ini_file's removal of every active line of a key (state absent, exclusive): (new lines, changed)."""
    lines, changed = _fixed_end(lines)
    place = _Section(lines, section)
    if not place.found():
        return lines, changed
    body = [line for line in lines[place.head + 1:place.end] if _active(option, line) is None]
    changed = changed or len(body) != place.end - place.head - 1
    return lines[:place.head + 1] + body + lines[place.end:], changed


def top_values(lines, option):
    """The values of the key's active lines at the top of the file (before the first section), in file order."""
    place = _Section(lines, None)
    found = [_active(option, line) for line in lines[:place.end]]
    return [value for value in found if value is not None]


def edit_file(text, edits):
    """A file's new text after the edits of one file, in order; (text, changes) with the keys that changed.

    text: the current text (None: no file); edits: dicts with section (None: top), option and value_list.  The
    top-level own_node lines are also put in the order of value_list.  text comes back unchanged when nothing changes.
    """
    lines = read_lines(text or "")
    changes = []
    for edit in edits:
        section, option, values = edit["section"], edit["option"], list(edit["value_list"])
        new, changed = set_option(lines, section, option, values)
        if section is None and top_values(new, option) != _unique(values):
            new = set_option(remove_option(lines, None, option)[0], None, option, values)[0]
            changed = True
        if changed:
            changes.append("%s [%s] %s" % (edit["file"], section, option) if section else "%s %s" % (edit["file"], option))
            lines = new  # unchanged: not even the empty line an empty file reads as (ini_file writes nothing then)
    if not changes:
        return text, []
    return "".join(lines), changes


def file_mode(value):
    """A file mode such as ``"0644"`` (octal text) or 420 as an int; None when it is not one."""
    try:
        mode = value if isinstance(value, int) else int(str(value), 8)
    except ValueError:
        return None
    return mode if 0 <= mode <= 0o7777 else None


def input_problem(settings, mode):
    """What is wrong with the writer's settings and mode (before any file is read); None when nothing is."""
    if file_mode(mode) is None:
        return "mode: %r is not an octal file mode such as '0644'" % (mode,)
    if not isinstance(settings.get("edits"), list):
        return "settings: 'edits' is missing; pass the result of teamware.qmail.mime_connector_settings"
    return None


def plan(texts, settings):
    """What the writer makes of the files: (lines to fix by hand, {name: (new text, changes)}).

    texts: {file name (connector_keys.TO_INI, connector_keys.TOMBSMTP_INI): its text, None when there is none}; settings: the
    result of the mime_connector_settings filter.  With lines to fix by hand nothing else is worked out.  Both
    mime_connector_files (which then writes) and mime_connector_info (which only tells) take their changes from here.
    """
    problems = to_ini_problems(texts.get(TO_INI)) + tombsmtp_problems(texts.get(TOMBSMTP_INI))
    if problems:
        return problems, {}
    return [], dict((name, edit_file(text, [edit for edit in settings["edits"] if edit["file"] == name]))
                    for name, text in texts.items())


def _unique(values):
    result = []
    for value in values:
        if value not in result:
            result.append(value)
    return result


# --- what must be fixed by hand first --------------------------------------------------

def _split(text):
    if text is None:
        return []
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.split("\n")


def _header(line):
    return line[1:line.find("]")].strip() if "]" in line else line[1:].strip()


def to_ini_problems(text):
    """Lines of to.ini the connector reads differently from the role: a [mime] section or a Mode key beside [MIME]'s."""
    found = []
    managed = dict((key.lower(), key) for key in TO_INI_KEYS)
    section = None
    headers = 0
    for number, line in enumerate(_split(text), 1):
        if line.startswith("["):
            section = _header(line)
            if section.lower() == MIME_SECTION.lower():
                headers += 1
                if section != MIME_SECTION:
                    found.append("%s line %d: section [%s]: write it [%s], as the role edits it" % (TO_INI, number, section, MIME_SECTION))
            continue
        if section is None or section.lower() != MIME_SECTION.lower():
            continue
        match = _ANY_KEY.match(line)
        if match and match.group(1).lower() in managed and match.group(1) != managed[match.group(1).lower()]:
            found.append("%s line %d: key %r in [%s]: write it %r, as the role edits it"
                         % (TO_INI, number, match.group(1), section, managed[match.group(1).lower()]))
    if headers > 1:
        found.append("%s has %d [%s] sections: merge them into one" % (TO_INI, headers, MIME_SECTION))
    return found


def tombsmtp_problems(text):
    """own_node lines of tombsmtp.ini the role would not see: in a section, or spelt in another case."""
    found = []
    section = None
    for number, line in enumerate(_split(text), 1):
        if line.startswith("["):
            section = _header(line)
            continue
        match = _ANY_KEY.match(line)
        if not match or match.group(1).lower() != OWN_NODE:
            continue
        if match.group(1) != OWN_NODE:
            found.append("%s line %d: key %r: write it 'own_node', as the role edits it" % (TOMBSMTP_INI, number, match.group(1)))
        elif section is not None:
            found.append("%s line %d: own_node in section [%s]: the role manages own_node at the top of the file, "
                         "before any section; move or remove it" % (TOMBSMTP_INI, number, section))
    return found
