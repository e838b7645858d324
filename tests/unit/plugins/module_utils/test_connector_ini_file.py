# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""connector.ini_file_would_change against community.general.ini_file itself.

The mime_connector role stops Teamware Office's connector only when an edit would change a
file; the prediction must agree with what ini_file then does, with the role's arguments, on any
file: a case table for the shapes seen in real to.ini files, and generated files for the rest.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.community.general.plugins.modules import ini_file
from ansible_collections.teamware.qmail.plugins.module_utils import connector


class CheckModeModule:
    """What do_ini uses of an AnsibleModule, in check mode: it reports and writes nothing."""

    check_mode = True
    _diff = False

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir

    def fail_json(self, **kwargs):
        raise AssertionError("ini_file failed: %r" % (kwargs,))


def ini_file_changes(tmp_path, raw, section, option, values):
    """What ini_file reports for the role's call on a file holding the bytes ``raw`` (None: missing)."""
    path = os.path.join(str(tmp_path), "to.ini")
    if os.path.exists(path):
        os.unlink(path)
    if raw is not None:
        with open(path, "wb") as handle:
            handle.write(raw)
    changed = ini_file.do_ini(CheckModeModule(str(tmp_path)), path, section=section, option=option, values=list(values),
                              state="present", exclusive=True, ignore_spaces=True, create=True,
                              modify_inactive_option=False, allow_no_value=False)[0]
    if raw is not None:
        with open(path, "rb") as handle:
            assert handle.read() == raw, "check mode changed the file"
    return changed


def predicted(raw, section, option, values):
    return connector.ini_file_would_change(None if raw is None else raw.decode("utf-8"), section, option, values)


CASES = [
    # (file, section, option, values, changes)
    (None, "MIME", "mode", ["strict"], True),
    (b"", "MIME", "mode", ["strict"], True),
    (b"", None, "own_node", [], False),
    (b"own_node = a\n", None, "own_node", [], True),
    (b"[MIME]\nmode = strict\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\nmode = strict", "MIME", "mode", ["strict"], True),
    (b"[MIME]\r\nmode = strict\r\n", "MIME", "mode", ["strict"], False),
    (b"\xef\xbb\xbf[MIME]\nmode = strict\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\nmode=strict\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\n  mode\t=  strict\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\nmode = strict \n", "MIME", "mode", ["strict"], True),
    (b"[MIME]\nmode = any\n", "MIME", "mode", ["strict"], True),
    (b"[MIME]\n;mode = strict\n", "MIME", "mode", ["strict"], True),
    (b"[MIME]\nmode = strict\nmode = strict\n", "MIME", "mode", ["strict"], True),
    (b"[ MIME ]\nmode = strict\n", "MIME", "mode", ["strict"], False),
    (b"[mime]\nmode = strict\n", "MIME", "mode", ["strict"], True),
    (b"[Other]\nmode = strict\n", "MIME", "mode", ["strict"], True),
    (b"mode = strict\n[MIME]\n", "MIME", "mode", ["strict"], True),
    (b"[MIME]\nmode = strict\n[MIME]\nmode = any\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\nmodes = x\nmode = strict\n", "MIME", "mode", ["strict"], False),
    (b"[MIME]\nallow = b.com\nallow = a.com\n", "MIME", "allow", ["a.com", "b.com"], False),
    (b"[MIME]\nallow = a.com\n", "MIME", "allow", ["a.com", "b.com"], True),
    (b"[MIME]\nallow = a.com\nallow = c.com\n", "MIME", "allow", ["a.com", "b.com"], True),
    (b"[MIME]\nallow = a.com\n", "MIME", "allow", ["a.com", "a.com"], False),
    (b"own_node = a\nown_node = A:b\n[X]\nown_node = c\n", None, "own_node", ["a", "A:b"], False),
    (b"own_node = a\n[X]\n", None, "own_node", ["a", "A:b"], True),
    (b"[X]\nown_node = a\n", None, "own_node", ["a"], True),
    (b"; comment\n\nown_node = a\n", None, "own_node", ["a"], False),
    (b"own_node\n", None, "own_node", ["a"], True),
]


@pytest.mark.parametrize("raw, section, option, values, changes", CASES)
def test_prediction_matches_ini_file(tmp_path, raw, section, option, values, changes):
    assert ini_file_changes(tmp_path, raw, section, option, values) is changes
    assert predicted(raw, section, option, values) is changes


LINE = st.one_of(
    st.sampled_from(["[MIME]", "[ MIME ]", "[mime]", "[Other]", "[MIME", " [MIME]", "", ";", "# note", "[X] x"]),
    st.builds(lambda lead, comment, key, space1, eq, space2, value, trail: lead + comment + key + space1 + eq + space2
              + value + trail,
              st.sampled_from(["", " ", "\t"]), st.sampled_from(["", "", ";", "#"]),
              st.sampled_from(["mode", "allow", "own_node", "Mode", "modes", "own_node_x"]),
              st.sampled_from(["", " ", "\t"]), st.sampled_from(["=", "=", ""]), st.sampled_from(["", " ", "  "]),
              st.sampled_from(["a", "b", "strict", "A:b", ""]), st.sampled_from(["", "", " "])),
)
ENDING = st.sampled_from(["\n", "\n", "\r\n", "\r"])


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(LINE, ENDING), max_size=8), last_newline=st.booleans(), bom=st.booleans(),
       target=st.sampled_from([("MIME", "mode"), ("MIME", "allow"), (None, "own_node"), ("Other", "mode")]),
       values=st.lists(st.sampled_from(["a", "b", "strict", "A:b"]), max_size=3))
def test_prediction_matches_ini_file_on_generated_files(tmp_path, lines, last_newline, bom, target, values):
    text = "".join(line + ending for line, ending in lines)
    if lines and not last_newline:
        text = text[:-len(lines[-1][1])]
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
    section, option = target
    assert predicted(raw, section, option, values) is ini_file_changes(tmp_path, raw, section, option, values), text
