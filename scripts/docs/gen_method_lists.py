# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Write every plain list of the integration methods from the METHODS table of plugins/module_utils/methods.py.

    python3 scripts/docs/gen_method_lists.py          # rewrites the lists below in place
    python3 scripts/docs/gen_method_lists.py --check  # exits 1 and names the files whose list is out of date

The lists: the choices and the description of teamware_integration_method in every role's
meta/argument_specs.yml and in the DOCUMENTATION of plugins/modules/routing_table.py, the links of
docs/README.md, the sentence of README.md and the row of docs/inventory.md.  Tables with prose per method
(docs/methods/README.md, docs/choosing-a-method.md) are written by hand and held against METHODS by
tests/unit/test_method_lists.py, which also runs this script's check.  After a change to an argument spec,
run scripts/docs/gen_role_reference.py too.

METHODS is read from the source text (``Method("name", "section", "title", ...)``), so the script needs neither
Ansible nor the collection on the path.  Needs Python 3 only.
"""

from __future__ import absolute_import, division, print_function

import argparse
import glob
import os
import re
import sys
import textwrap

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
METHODS_PY = os.path.join("plugins", "module_utils", "methods.py")
_METHOD = re.compile(r'Method\("([a-z_]+)",\s*"([0-9.x]+)"')


def read_methods(repo=REPO):
    """[(name, section)] in the order of METHODS."""
    with open(os.path.join(repo, METHODS_PY), encoding="utf-8") as handle:
        text = handle.read()
    table = text[text.index("METHODS = "):]
    return _METHOD.findall(table)


def _sub(pattern, replacement, text, path):
    new, count = re.subn(pattern, replacement, text, count=1, flags=re.M)
    if count != 1:
        raise ValueError("%s: the list of methods is not where %s expects it" % (path, os.path.basename(__file__)))
    return new


def _argument_spec(text, path, methods):
    names = ", ".join(name for name, _s in methods)
    text = _sub(r"(^ +teamware_integration_method:\n +description: The integration method \()[^)\n]*(\)\.$)",
                lambda m: m.group(1) + names + m.group(2), text, path)
    return _sub(r"(^ +teamware_integration_method:\n(?: {8,}\S.*\n)*? +choices: \[)[^\]\n]*(\])",
                lambda m: m.group(1) + names + m.group(2), text, path)


def _module_doc(text, path, methods):
    words = ["V(%s) (%s)%s" % (name, section, " qmail and Teamware Office side by side" if name == "none" else "")
             for name, section in methods]
    bullet = textwrap.fill("; ".join(words) + ".", width=120, initial_indent="      - ", subsequent_indent="        ",
                           break_on_hyphens=False, break_long_words=False)
    text = _sub(r"(^  teamware_integration_method:\n    description:\n      - The integration method \(document section "
                r"in brackets\)\.\n)      - V\(none\)[\s\S]*?\n(    type: str\n)", lambda m: m.group(1) + bullet + "\n" + m.group(2),
                text, path)
    names = ", ".join(name for name, _s in methods)
    return _sub(r"(^  teamware_integration_method:\n(?:    .*\n)*?    choices: \[)[^\]\n]*(\])",
                lambda m: m.group(1) + names + m.group(2), text, path)


def _docs_readme(text, path, methods):
    links = " ·\n".join("  [`%s`](methods/%s.md)" % (name, name) for name, _s in methods)
    return _sub(r"(written for the document's example, an inventory and the route check:\n)[\s\S]*?\n(- \[The inventory\])",
                lambda m: m.group(1) + links + "\n" + m.group(2), text, path)


def _readme(text, path, methods):
    words = ["`%s` (%s)" % (name, "section %s" % section if name == "none" else section) for name, section in methods]
    sentence = ("`teamware_integration_method` is one of %s and %s. Each is described in one place, the `METHODS` "
                "table of [plugins/module_utils/methods.py](plugins/module_utils/methods.py), as a hook and a "
                "transport." % (", ".join(words[:-1]), words[-1]))
    paragraph = textwrap.fill(sentence, width=92, break_on_hyphens=False, break_long_words=False)
    return _sub(r"^`teamware_integration_method` is one of [\s\S]*?\n\n", lambda m: paragraph + "\n\n", text, path)


def _inventory(text, path, methods):
    names = ", ".join("`%s`" % name for name, _s in methods)
    return _sub(r"(^\| `teamware_integration_method` \| `none` \| )[^;\n]*(; see )", lambda m: m.group(1) + names + m.group(2),
                text, path)


def targets(repo=REPO):
    """{relative path: function(text, path, methods) -> text}."""
    found = {}
    for path in sorted(glob.glob(os.path.join(repo, "roles", "*", "meta", "argument_specs.yml"))):
        with open(path, encoding="utf-8") as handle:
            if re.search(r"^ +teamware_integration_method:$", handle.read(), re.M):
                found[os.path.relpath(path, repo)] = _argument_spec
    found[os.path.join("plugins", "modules", "routing_table.py")] = _module_doc
    found[os.path.join("docs", "README.md")] = _docs_readme
    found["README.md"] = _readme
    found[os.path.join("docs", "inventory.md")] = _inventory
    return found


def rendered(repo=REPO):
    """{relative path: (current text, text with the lists from METHODS)}."""
    methods = read_methods(repo)
    result = {}
    for rel, render in targets(repo).items():
        with open(os.path.join(repo, rel), encoding="utf-8") as handle:
            current = handle.read()
        result[rel] = (current, render(current, rel, methods))
    return result


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
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
