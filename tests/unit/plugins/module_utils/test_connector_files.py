# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""connector_files.edit_file against community.general.ini_file itself, byte for byte.

Up to 0.1.0 the mime_connector role wrote the connector's keys with one community.general.ini_file call per key
(state present, exclusive, ignore_spaces, modify_inactive_option false, create), after removing every top-level
own_node line of tombsmtp.ini when keeping them in place would leave them in another order.  The collection's own
writer must leave every file exactly as that sequence did: a case table for the shapes seen in real files, and
generated files for the rest.  The reference runs the real ini_file (the version of the toolchain) on real files.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.community.general.plugins.modules import ini_file
from ansible_collections.teamware.qmail.plugins.module_utils import connector, connector_files

from .document_example import example


class WritingModule:
    """What do_ini uses of an AnsibleModule when it writes."""

    check_mode = False
    _diff = False

    def __init__(self, tmpdir):
        self.tmpdir = tmpdir

    def atomic_move(self, src, dest):
        shutil.move(src, dest)

    def fail_json(self, **kwargs):
        raise AssertionError("ini_file failed: %r" % (kwargs,))


def top_own_nodes(path):
    """The active own_node values before the first section, as ini_file reads the file."""
    if not os.path.exists(path):
        return []
    found = []
    with io.open(path, "r", encoding="utf-8-sig") as handle:
        for line in handle.readlines():
            if line.startswith("["):
                break
            match = ini_file.match_active_opt("own_node", line)
            if match:
                found.append(match.groups()[-1])
    return found


def role_with_ini_file(tmp_path, raw, edits):
    """The bytes the 0.1.0 role left (None: no file) and whether ini_file changed anything."""
    work = str(tmp_path / "ref")
    if os.path.exists(work):
        shutil.rmtree(work)
    os.makedirs(work)
    path = os.path.join(work, "file.ini")
    module = WritingModule(work)

    def call(section, option, values, state="present"):
        return ini_file.do_ini(module, path, section=section, option=option, values=list(values), state=state,
                               exclusive=True, ignore_spaces=True, create=True, modify_inactive_option=False,
                               allow_no_value=False)[0]

    if raw is not None:
        with open(path, "wb") as handle:
            handle.write(raw)
    changed = False
    for edit in edits:
        if edit["section"] is None:
            # The role removed the own_node lines first when ini_file would keep them in another order.
            scratch = os.path.join(work, "scratch.ini")
            if os.path.exists(path):
                shutil.copyfile(path, scratch)
            probe = WritingModule(work)
            ini_file.do_ini(probe, scratch, section=None, option=edit["option"], values=list(edit["value_list"]),
                            state="present", exclusive=True, ignore_spaces=True, create=True,
                            modify_inactive_option=False, allow_no_value=False)
            wanted = []
            for value in edit["value_list"]:
                if value not in wanted:
                    wanted.append(value)
            if top_own_nodes(scratch) != wanted:
                changed = call(None, edit["option"], [], state="absent") or changed
            if os.path.exists(scratch):
                os.unlink(scratch)
        changed = call(edit["section"], edit["option"], edit["value_list"]) or changed
    if not os.path.exists(path):
        return None, changed
    with open(path, "rb") as handle:
        return handle.read(), changed


def own_writer(raw, edits):
    text = None if raw is None else raw.decode("utf-8")
    new, changes = connector_files.edit_file(text, edits)
    return (None if new is None else new.encode("utf-8")), bool(changes)


def edit(section, option, values, name="to.ini"):
    return {"file": name, "section": section, "option": option, "value_list": values}


MODE = [edit("MIME", "mode", ["strict"])]
ALLOW = [edit("MIME", "allow", ["a.com", "b.com"])]
OWN = [edit(None, "own_node", ["a", "A:b"], "tombsmtp.ini")]

CASES = [
    (None, MODE), (b"", MODE), (b"", [edit(None, "own_node", [], "tombsmtp.ini")]), (b"own_node = a\n", [edit(None, "own_node", [], "tombsmtp.ini")]),
    (b"[MIME]\nmode = strict\n", MODE), (b"[MIME]\nmode = strict", MODE), (b"[MIME]\r\nmode = strict\r\n", MODE),
    (b"[MIME]\r\nmode = any\r\n", MODE), (b"\xef\xbb\xbf[MIME]\nmode = strict\n", MODE),
    (b"\xef\xbb\xbf[MIME]\nmode = any\n", MODE), (b"[MIME]\nmode=strict\n", MODE), (b"[MIME]\n  mode\t=  strict\n", MODE),
    (b"[MIME]\nmode = strict \n", MODE), (b"[MIME]\n;mode = strict\n", MODE), (b"[MIME]\nmode = strict\nmode = strict\n", MODE),
    (b"[ MIME ]\nmode = any\n", MODE), (b"[Other]\nmode = strict\n", MODE), (b"mode = strict\n[MIME]\n", MODE),
    (b"[MIME]\nmode = strict\n[MIME]\nmode = any\n", MODE), (b"[MIME]\nmodes = x\nmode = any\n", MODE),
    (b"[MIME]\n; comment\nmax_size = 1\n\n; trailing comment\n\n[X400]\nmode = relay\n", MODE),
    (b"[MIME]\n\n; only comments\n", MODE), (b"; top\n\n[MIME]\n", MODE),
    (b"[MIME]\nallow = b.com\nallow = a.com\n", ALLOW), (b"[MIME]\nallow = a.com\n", ALLOW),
    (b"[MIME]\nallow = c.com\nx = 1\nallow = a.com\nallow = d.com\n", ALLOW),
    (b"own_node = a\nown_node = A:b\n[X]\nown_node = c\n", OWN), (b"own_node = a\n[X]\n", OWN),
    (b"own_node = A:b\nown_node = a\n", OWN), (b"; nodes\nown_node = A:b\nown_node = old\n\n[S]\nk = v\n", OWN),
    (b"[X]\nown_node = a\n", OWN), (b"; comment\n\nown_node = a\n", OWN), (b"own_node\n", OWN), (b"\n\n; c\n", OWN),
    (b"own_node = b\rown_node = a\r", OWN), (b"[MIME\nmode = any\n", MODE),
]


@pytest.mark.parametrize("raw, edits", CASES)
def test_the_same_bytes_as_ini_file(tmp_path, raw, edits):
    assert own_writer(raw, edits) == role_with_ini_file(tmp_path, raw, edits)


@pytest.mark.parametrize("method, extra", [
    ("smtp_smtproutes", dict(teamware_domains=["tw.company.com"])),
    ("torecvm_virtualdomains", dict(teamware_domains=["tw.company.com"])),
    ("smtp_forward", dict(teamware_domains=["company.com"], teamware_user_prefix="tw.",
                          teamware_rewrite_domain="tw.company.com")),
])
def test_the_role_s_edits_on_a_real_to_ini(tmp_path, method, extra):
    settings_ = connector.compute(example(method, **extra))
    raw = (b"; Teamware Office\r\n[General]\r\nname = tw\r\n\r\n[MIME]\r\n; see section 4\r\nmode = any\r\n"
           b"allow = old.example.com\r\nmax_size = 10485760\r\n;no_relay = 0\r\n\r\n[X400]\r\nmode = relay\r\n")
    for name, text in ((connector.TO_INI, raw), (connector.TOMBSMTP_INI, None),
                       (connector.TOMBSMTP_INI, b"own_node = A:tw.company.com\nown_node = company.com\n[Other]\nk = v\n")):
        edits = [item for item in settings_["edits"] if item["file"] == name]
        assert own_writer(text, edits) == role_with_ini_file(tmp_path, text, edits)


def test_nothing_to_change_leaves_the_text_as_it_is():
    text = "\ufeff[MIME]\r\nmode = strict\r\n"
    assert connector_files.edit_file(text, MODE) == (text, [])
    assert connector_files.edit_file(None, [edit(None, "own_node", [], "tombsmtp.ini")]) == (None, [])


def test_the_changes_name_the_keys():
    _text, changes = connector_files.edit_file("[MIME]\nmode = any\nallow = a.com\nallow = b.com\n", MODE + ALLOW)
    assert changes == ["to.ini [MIME] mode"]
    _text, changes = connector_files.edit_file("own_node = A:b\nown_node = a\n", OWN)
    assert changes == ["tombsmtp.ini own_node"]


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
VALUES = st.lists(st.sampled_from(["a", "b", "strict", "A:b"]), max_size=3)
EDITS = st.lists(st.one_of(
    st.builds(lambda values: edit("MIME", "mode", values), VALUES),
    st.builds(lambda values: edit("MIME", "allow", values), VALUES),
    st.builds(lambda values: edit("Other", "mode", values), VALUES),
    st.builds(lambda values: edit(None, "own_node", values, "tombsmtp.ini"), VALUES),
), min_size=1, max_size=3)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.tuples(LINE, ENDING), max_size=8), last_newline=st.booleans(), bom=st.booleans(),
       exists=st.booleans(), edits=EDITS)
def test_the_same_bytes_as_ini_file_on_generated_files(tmp_path, lines, last_newline, bom, exists, edits):
    text = "".join(line + ending for line, ending in lines)
    if lines and not last_newline:
        text = text[:-len(lines[-1][1])]
    raw = ((b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")) if exists else None
    assert own_writer(raw, edits) == role_with_ini_file(tmp_path, raw, edits), (raw, edits)


@pytest.mark.parametrize("to_ini, tombsmtp, words", [
    ("[mime]\nmode = any\n", None, "section [mime]"),
    ("[MIME]\nMode = any\n", None, "key 'Mode'"),
    ("[MIME]\nALLOW=x.com\n", None, "key 'ALLOW'"),
    ("[MIME]\nmode = any\n[X]\n[MIME]\nallow = x.com\n", None, "2 [MIME] sections"),
    (None, "own_node = tw.company.com\n[Nodes]\nown_node = x.com\n", "own_node in section [Nodes]"),
    (None, "Own_Node = tw.company.com\n", "key 'Own_Node'"),
])
def test_lines_to_fix_by_hand(to_ini, tombsmtp, words):
    found = connector_files.to_ini_problems(to_ini) + connector_files.tombsmtp_problems(tombsmtp)
    assert any(words in p for p in found), found


def test_unrelated_content_is_no_problem():
    to_ini = "; Mode = any\n[General]\nMode = x\n[MIME]\n;Mode = any\nmode = any\nmax_size = 10\n[mimex]\nMode = y\n"
    tombsmtp = "; own nodes\nown_node = tw.company.com\n[Other]\nOWN = 1\n"
    assert connector_files.to_ini_problems(to_ini) == []
    assert connector_files.tombsmtp_problems(tombsmtp) == []


def test_an_edit_that_changes_nothing_leaves_an_emptied_file_empty():
    """Found by the generated files above: the second of two own_node removals met the empty file the first left, and
    added the empty line an empty file reads as, where ini_file (nothing changed) writes nothing."""
    removal = edit(None, "own_node", [], "tombsmtp.ini")
    assert connector_files.edit_file("own_node=a", [removal, removal]) == ("", ["tombsmtp.ini own_node"])
