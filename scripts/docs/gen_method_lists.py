# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write every list of the integration methods from the METHODS table of plugins/module_utils/methods.py.

    python3 scripts/docs/gen_method_lists.py          # rewrites the lists below in place
    python3 scripts/docs/gen_method_lists.py --check  # exits 1 and names the files whose list is out of date

The lists: the choices and the description of teamware_integration_method in every role's
meta/argument_specs.yml and in the DOCUMENTATION of plugins/modules/routing_table.py, the links of
docs/README.md, the sentence of README.md, the row of docs/inventory.md, and the method tables of
docs/methods/README.md and docs/choosing-a-method.md (name, section and routing kinds from METHODS, the other
columns from the "method tables" comment at the top of each method's page, docs/methods/NAME.md).  Besides, the
lab's inventory/lab/group_vars/method_*.yml, one per entry of LAB_METHOD_FILES in tests/method_examples.py (the
example's settings and what the lab's tests expect).  tests/unit/test_method_lists.py runs this script's check.
After a change to an argument spec, run scripts/docs/gen_role_reference.py too.

METHODS is read from the source text (``Method("name", "section", "title", transport, hook, (kinds))``), and
tests/method_examples.py is plain Python, so the script needs neither Ansible nor the collection on the path.
Needs Python 3 only.
"""

from __future__ import absolute_import, division, print_function

import argparse
import glob
import importlib.util
import os
import re
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS_PY = os.path.join("plugins", "module_utils", "methods.py")
EXAMPLES_PY = os.path.join("tests", "method_examples.py")
_METHOD = re.compile(r'Method\("([a-z_]+)",\s*"([0-9.x]+)",\s*"[^"]*",\s*[^,]+,\s*[^,]+,\s*\(([^)]*)\)\)')


def read_methods(repo=REPO):
    """[(name, section, routing kinds)] in the order of METHODS."""
    with open(os.path.join(repo, METHODS_PY), encoding="utf-8") as handle:
        text = handle.read()
    table = text[text.index("METHODS = "):]
    return [(name, section, tuple(re.findall(r'"([a-z]+)"', kinds))) for name, section, kinds in _METHOD.findall(table)]


def _sub(pattern, replacement, text, path):
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    if count != 1:
        raise ValueError("%s: the list of methods is not where %s expects it" % (path, os.path.basename(__file__)))
    return new


def _argument_spec(text, path, methods):
    names = ", ".join(name for name, _s, _k in methods)
    text = _sub(r"(^ +teamware_integration_method:\n +description: The integration method \()[^)\n]*(\)\.$)",
                lambda m: m.group(1) + names + m.group(2), text, path)
    return _sub(r"(^ +teamware_integration_method:\n(?: {8,}\S.*\n)*? +choices: \[)[^\]\n]*(\])",
                lambda m: m.group(1) + names + m.group(2), text, path)


def _module_doc(text, path, methods):
    words = ["V(%s) (%s)%s" % (name, section, " qmail and Teamware Office side by side" if name == "none" else "")
             for name, section, _k in methods]
    bullet = textwrap.fill("; ".join(words) + ".", width=120, initial_indent="      - ", subsequent_indent="        ",
                           break_on_hyphens=False, break_long_words=False)
    text = _sub(r"(^  teamware_integration_method:\n    description:\n      - The integration method \(document section "
                r"in brackets\)\.\n)      - V\(none\)[\s\S]*?\n(    type: str\n)", lambda m: m.group(1) + bullet + "\n" + m.group(2),
                text, path)
    names = ", ".join(name for name, _s, _k in methods)
    return _sub(r"(^  teamware_integration_method:\n(?:    .*\n)*?    choices: \[)[^\]\n]*(\])",
                lambda m: m.group(1) + names + m.group(2), text, path)


def _docs_readme(text, path, methods):
    links = " ·\n".join("  [`%s`](methods/%s.md)" % (name, name) for name, _s, _k in methods)
    return _sub(r"(written for the document's example, an inventory and the route check:\n)[\s\S]*?\n(- \[The inventory\])",
                lambda m: m.group(1) + links + "\n" + m.group(2), text, path)


def _readme(text, path, methods):
    words = ["`%s` (%s)" % (name, "section %s" % section if name == "none" else section) for name, section, _k in methods]
    sentence = ("`teamware_integration_method` is one of %s and %s. Each is described in one place, the `METHODS` "
                "table of [plugins/module_utils/methods.py](plugins/module_utils/methods.py), as a hook and a "
                "transport." % (", ".join(words[:-1]), words[-1]))
    paragraph = textwrap.fill(sentence, width=92, break_on_hyphens=False, break_long_words=False)
    return _sub(r"^`teamware_integration_method` is one of [\s\S]*?\n\n", lambda m: paragraph + "\n\n", text, path)


def _inventory(text, path, methods):
    names = ", ".join("`%s`" % name for name, _s, _k in methods)
    return _sub(r"(^\| `teamware_integration_method` \| `none` \| )[^;\n]*(; see )", lambda m: m.group(1) + names + m.group(2),
                text, path)


_PAGE_BLOCK = re.compile(r"^<!-- method tables:.*\n((?:[a-z ]+: .*\n)+)-->$", re.M)
PAGE_KEYS = ("gets mail by", "qmail routes with", "on the qmail host", "on its own host", "in one sentence")


def page_columns(repo, name):
    """{key: text} of the "method tables" comment of docs/methods/NAME.md."""
    path = os.path.join(repo, "docs", "methods", "%s.md" % name)
    if not os.path.exists(path):
        raise ValueError("%s: missing; every method of METHODS has its page" % os.path.relpath(path, repo))
    with open(path, encoding="utf-8") as handle:
        found = _PAGE_BLOCK.search(handle.read())
    columns = dict(line.split(": ", 1) for line in found.group(1).splitlines()) if found else {}
    missing = [key for key in PAGE_KEYS if not columns.get(key, "").strip()]
    if missing:
        raise ValueError("%s: its 'method tables' comment lacks %s" % (os.path.relpath(path, repo), ", ".join(missing)))
    return columns


def _rows(repo, methods, link, columns):
    rows = []
    for name, section, kinds in methods:
        page = page_columns(repo, name)
        cells = ["[`%s`](%s%s.md)" % (name, link, name), section, " or ".join(kinds) or "—"] + [page[c] for c in columns]
        rows.append("| %s |\n" % " | ".join(cells))
    return "".join(rows)


def _table(repo, header, link, columns):
    def render(text, path, methods):
        rows = _rows(repo, methods, link, columns)
        return _sub(r"(^%s\n\| ---(?: \| ---)* \|\n)(?:\|.*\n)*" % re.escape(header), lambda m: m.group(1) + rows,
                    text, path)
    return render


# {path: (the table's header line, the link from that file to the pages, the columns from the pages)}
TABLES = {
    os.path.join("docs", "methods", "README.md"): (
        "| page | section | routing | Teamware Office gets mail by | in one sentence |", "",
        ("gets mail by", "in one sentence")),
    os.path.join("docs", "choosing-a-method.md"): (
        "| method | section | routing | Teamware gets mail by | qmail routes with | Teamware on the qmail host "
        "| Teamware on its own host |", "methods/",
        ("gets mail by", "qmail routes with", "on the qmail host", "on its own host")),
}


def targets(repo=REPO):
    """{relative path: function(text, path, methods[, repo]) -> text}: the files with a list of the methods."""
    found = {}
    for path in sorted(glob.glob(os.path.join(repo, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path, encoding="utf-8") as handle:
            if re.search(r"^ +teamware_integration_method:$", handle.read(), re.M):
                found[os.path.relpath(path, repo)] = _argument_spec
    found[os.path.join("plugins", "modules", "routing_table.py")] = _module_doc
    found[os.path.join("docs", "README.md")] = _docs_readme
    found["README.md"] = _readme
    found[os.path.join("docs", "inventory.md")] = _inventory
    for rel, (header, link, columns) in TABLES.items():
        found[rel] = _table(repo, header, link, columns)
    return found


def read_examples(repo=REPO):
    """tests/method_examples.py, loaded from its file (plain Python)."""
    spec = importlib.util.spec_from_file_location("method_examples", os.path.join(repo, EXAMPLES_PY))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _yaml_value(value):
    if value is None:
        return "null"
    if isinstance(value, list):
        return "[%s]" % ", ".join(value)
    return value


def lab_method_file(examples, kinds, name):
    """The text of inventory/lab/group_vars/NAME.yml: the example's settings, every EXAMPLE_KEYS key (null where
    unused, so that the switch scenario can load one over another; the routing kind filled in where the method has
    one only), and what the lab's tests expect."""
    lab = examples.LAB_METHOD_FILES[name]
    settings = dict(examples.EXAMPLES[lab["example"]])
    method_kinds = kinds[settings["teamware_integration_method"]]
    if not settings.get("teamware_routing") and len(method_kinds) == 1:
        settings["teamware_routing"] = method_kinds[0]
    lines = ["---", "# Generated by scripts/docs/gen_method_lists.py from tests/method_examples.py (LAB_METHOD_FILES): "
             "edit it there.", "# " + lab["comment"], "# Every method_* file sets the same keys (null where unused), so "
             "that the switch scenario can load one", "# over another."]
    lines += ["%s: %s" % (key, _yaml_value(settings.get(key))) for key in examples.EXAMPLE_KEYS]
    lines += ["", "# What the tests expect ({user} = the Teamware user's name): the address a sender uses, the envelope",
              "# recipient qmail hands to Teamware Office, and the Teamware address the connector files it under."]
    lines += ['%s: "%s"' % (key, lab[key[len("lab_teamware_"):]]) for key in LAB_EXPECTATIONS]
    return "\n".join(lines) + "\n"


LAB_EXPECTATIONS = ("lab_teamware_rcpt", "lab_teamware_envelope", "lab_teamware_address")
LAB_GROUP_VARS = os.path.join("inventory", "lab", "group_vars")


def lab_files(repo=REPO):
    """{relative path: text} of the lab's method files."""
    examples = read_examples(repo)
    kinds = dict((name, kinds) for name, _s, kinds in read_methods(repo))
    return dict((os.path.join(LAB_GROUP_VARS, "%s.yml" % name), lab_method_file(examples, kinds, name))
                for name in examples.LAB_METHOD_FILES)


def rendered(repo=REPO):
    """{relative path: (current text, text with the lists from METHODS)}; "" for a file that is not there yet."""
    methods = read_methods(repo)
    result = {}
    for rel, render in targets(repo).items():
        with open(os.path.join(repo, rel), encoding="utf-8") as handle:
            current = handle.read()
        result[rel] = (current, render(current, rel, methods))
    for rel, text in lab_files(repo).items():
        path = os.path.join(repo, rel)
        current = ""
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                current = handle.read()
        result[rel] = (current, text)
    return result


def stale_lab_files(repo=REPO):
    """Lab method files that no entry of LAB_METHOD_FILES generates."""
    wanted = set(lab_files(repo))
    return sorted(os.path.relpath(path, repo) for path in glob.glob(os.path.join(repo, LAB_GROUP_VARS, "method_*.yml"))
                  if os.path.relpath(path, repo) not in wanted)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 when a list is out of date")
    args = parser.parse_args(argv)
    stale = []
    for rel, (current, new) in sorted(rendered().items()):
        if current == new:
            continue
        stale.append(rel)
        if not args.check:
            with open(os.path.join(REPO, rel), "w", encoding="utf-8") as handle:
                handle.write(new)
    for rel in stale:
        print("%s %s" % ("out of date:" if args.check else "wrote", rel))
    for rel in stale_lab_files():
        stale.append(rel)
        if not args.check:
            os.remove(os.path.join(REPO, rel))
        print("%s %s" % ("not generated:" if args.check else "removed", rel))
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
