# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Generate the variable reference of every role from its meta/argument_specs.yml.

    python3 scripts/docs/gen_role_reference.py              # writes docs/reference/
    python3 scripts/docs/gen_role_reference.py --output DIR # writes DIR/ instead (used by check_docs.py)

Output: DIR/README.md (index) and DIR/roles/<role>.md, one per role, in Markdown.
The output depends only on the argument_specs files and the roles' defaults/main.yml
(for defaults that argument_specs does not state), never on
time, host or tool versions, so it can be compared byte for byte in CI
(scripts/docs/check_docs.py).  Needs Python 3 and PyYAML (ansible-core brings it).

Why not antsibull-docs: it writes reStructuredText with raw HTML tables for a Sphinx
site, tells readers to install the collection from Galaxy (this one is not
published), and needs the collection installed under a collections path with
`ansible` on PATH.  This generator writes plain Markdown that the repository
browser shows as it is.
"""

from __future__ import absolute_import, division, print_function

import argparse
import os
import re
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
GENERATOR = "scripts/docs/gen_role_reference.py"

# Ansible documentation markup: C() V() O() RV() E() I() B() M() P() U() L() HORIZONTALLINE
# (ansible-core's developing_modules_documenting guide, "Linking and other format macros").
_MARKUP = re.compile(r"(?<![A-Za-z0-9_])(RV|C|V|O|E|I|B|M|U|P)\(((?:[^)\\]|\\.)*)\)|(?<![A-Za-z0-9_])L\(([^,)]*),([^)]*)\)|HORIZONTALLINE")


def _code(text):
    text = text.replace("\\)", ")").replace("\\\\", "\\")
    fence = "``" if "`" in text else "`"
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return "%s%s%s%s%s" % (fence, pad, text, pad, fence)


def _option_name(text):
    """O(name=value) / RV(name) may carry a value or a plugin prefix: keep what a reader types."""
    text = text.replace("\\)", ")")
    if "#" in text and ":" in text.split("=", 1)[0]:
        text = text.split(":", 1)[1]
    return text


def markup(text):
    """Ansible markup to Markdown (inline)."""
    if not isinstance(text, str):
        text = str(text)

    def replace(match):
        if match.group(0) == "HORIZONTALLINE":
            return "\n\n---\n\n"
        if match.group(3) is not None:
            return "[%s](%s)" % (match.group(3).strip(), match.group(4).strip())
        kind, body = match.group(1), match.group(2)
        if kind in ("C", "V", "E"):
            return _code(body)
        if kind in ("O", "RV"):
            return _code(_option_name(body))
        if kind == "I":
            return "*%s*" % body
        if kind == "B":
            return "**%s**" % body
        if kind in ("M", "P"):
            return _code(body.split("#", 1)[0])
        if kind == "U":
            return "<%s>" % body
        return match.group(0)

    return _MARKUP.sub(replace, text)


def _paragraphs(description):
    if description is None:
        return []
    if isinstance(description, str):
        description = [description]
    return [" ".join(markup(item).split()) for item in description]


def _yaml_value(value):
    """A default or choice as the reader would write it in YAML, on one line."""
    if isinstance(value, str):
        if value == "" or value != value.strip() or re.match(r"^[\d.]+$|^(true|false|yes|no|null|~)$", value, re.I) \
                or any(c in value for c in ":#{}[],&*!|>'\"%@`"):
            return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(_yaml_value(item) for item in value)
    if isinstance(value, dict):
        return "{%s}" % ", ".join("%s: %s" % (_yaml_value(k), _yaml_value(v)) for k, v in value.items())
    return str(value)


def _type(spec):
    kind = spec.get("type", "str")
    if kind == "list" and spec.get("elements"):
        return "list of %s" % spec["elements"]
    return kind


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _default(spec, name, role_defaults):
    """(text, origin): the argument_specs default, else the value in the role's defaults/main.yml."""
    if "default" in spec:
        return _yaml_value(spec["default"]), "argument_specs"
    if name in role_defaults:
        return _yaml_value(role_defaults[name]), "defaults/main.yml"
    return None, None


def _options_section(options, heading_level, prefix="", role_defaults=None):
    role_defaults = role_defaults if role_defaults is not None else {}
    lines = []
    if not options:
        lines += ["This entry point takes no variables.", ""]
        return lines
    lines += ["| variable | type | required | default |", "| --- | --- | --- | --- |"]
    for name, spec in options.items():
        spec = spec or {}
        default = "—"
        value, origin = _default(spec, prefix + name, role_defaults)
        if value is not None:
            default = _code(value) + (" ¹" if origin == "defaults/main.yml" else "")
        lines.append("| [%s](#%s) | %s | %s | %s |" % (
            _cell(_code(prefix + name)), _anchor(prefix + name), _cell(_type(spec)),
            "yes" if spec.get("required") else "no", _cell(default)))
    lines += ["", "— : the role sets no default of its own (for the shared `teamware_*` variables the module's default applies). "
              "¹ : the default is set in the role's `defaults/main.yml`, not in its "
              "argument_specs.", ""]
    for name, spec in options.items():
        spec = spec or {}
        lines.append("%s %s" % ("#" * heading_level, prefix + name))
        lines.append("")
        facts = ["type: %s" % _type(spec)]
        if spec.get("required"):
            facts.append("**required**")
        value, origin = _default(spec, prefix + name, role_defaults)
        if value is not None:
            facts.append("default: %s%s" % (_code(value), " (in `defaults/main.yml`)" if origin == "defaults/main.yml" else ""))
        if spec.get("choices"):
            facts.append("choices: %s" % ", ".join(_code(_yaml_value(c)) for c in spec["choices"]))
        if spec.get("no_log"):
            facts.append("not logged")
        if spec.get("version_added"):
            facts.append("added in %s" % spec["version_added"])
        lines.append(" · ".join(facts))
        lines.append("")
        for paragraph in _paragraphs(spec.get("description")) or ["(no description)"]:
            lines.append(paragraph)
            lines.append("")
        if spec.get("options"):
            lines += _options_section(spec["options"], min(heading_level + 1, 6), prefix + name + ".", {})
    return lines


def _anchor(text):
    """The anchor GitHub-style renderers give a heading: lower case, punctuation dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")


def roles(repo=REPO):
    base = os.path.join(repo, "roles")
    found = []
    for name in sorted(os.listdir(base)) if os.path.isdir(base) else []:
        for ext in ("yml", "yaml"):
            path = os.path.join(base, name, "meta", "argument_specs." + ext)
            if os.path.isfile(path):
                found.append((name, path))
                break
    return found


def role_defaults(spec_path):
    """The role's defaults/main.yml (the role directory is two levels above meta/argument_specs.yml)."""
    role_dir = os.path.dirname(os.path.dirname(spec_path))
    for ext in ("yml", "yaml"):
        path = os.path.join(role_dir, "defaults", "main." + ext)
        if os.path.isfile(path):
            with open(path, encoding="utf-8") as handle:
                data = yaml.safe_load(handle) or {}
            return data if isinstance(data, dict) else {}
    return {}


def load_specs(path):
    with open(path, encoding="utf-8") as handle:
        data = yaml.safe_load(handle) or {}
    specs = data.get("argument_specs") or {}
    if not isinstance(specs, dict):
        raise ValueError("%s: argument_specs must be a mapping of entry points" % path)
    return specs


def role_page(role, path, repo=REPO):
    specs = load_specs(path)
    source = os.path.relpath(path, repo)
    lines = [
        "<!-- Generated by %s from %s. Do not edit: change the argument_specs and run the generator. -->" % (GENERATOR, source),
        "",
        "# Role `teamware.qmail.%s`" % role,
        "",
    ]
    main = specs.get("main") or {}
    if main.get("short_description"):
        lines += [markup(main["short_description"]).strip().rstrip(".") + ".", ""]
    lines += ["Variables of the role, from [`%s`](../../../%s) (defaults that only `defaults/main.yml` sets are " % (source, source)
              + "taken from there). Defaults computed at run time are shown as the role writes them.", ""]
    for entry, spec in specs.items():
        spec = spec or {}
        level = 2
        if len(specs) > 1 or entry != "main":
            lines += ["## Entry point `%s`" % entry, ""]
            if spec.get("short_description"):
                lines += [markup(spec["short_description"]).strip(), ""]
            level = 3
        for paragraph in _paragraphs(spec.get("description")):
            lines += ["- " + paragraph] if len(_paragraphs(spec.get("description"))) > 1 else [paragraph]
        lines.append("")
        lines += ["%s Variables" % ("#" * level), ""]
        lines += _options_section(spec.get("options") or {}, level + 1, "", role_defaults(path) if entry == "main" else {})
    text = "\n".join(lines)
    text = re.sub(r"\n{3,}", "\n\n", text).rstrip("\n") + "\n"
    return text


def index_page(found, repo=REPO):
    lines = [
        "<!-- Generated by %s. Do not edit: run the generator. -->" % GENERATOR,
        "",
        "# Variable reference",
        "",
        "One page per role, generated from the role's `meta/argument_specs.yml` by",
        "`python3 %s`; `scripts/docs/check_docs.py` fails when these pages" % GENERATOR,
        "differ from what the generator writes, so they cannot drift from the code.",
        "",
        "| role | what it does | variables |",
        "| --- | --- | --- |",
    ]
    for role, path in found:
        main = (load_specs(path).get("main") or {})
        count = sum(len((spec or {}).get("options") or {}) for spec in load_specs(path).values())
        lines.append("| [`teamware.qmail.%s`](roles/%s.md) | %s | %d |" % (
            role, role, _cell(markup(main.get("short_description", "")).strip()), count))
    lines += [
        "",
        "The modules and filters document themselves; read them with `ansible-doc`:",
        "",
        "```sh",
        "ansible-doc teamware.qmail.routing_table",
        "ansible-doc teamware.qmail.qmail_service",
        "ansible-doc teamware.qmail.qmail_route_info",
        "ansible-doc -t filter teamware.qmail.relay_clients",
        "ansible-doc -t role teamware.qmail.qmail      # the same variables as the page of the role",
        "```",
        "",
    ]
    return "\n".join(lines)


def render_all(repo=REPO):
    """{relative path under the reference directory: text}."""
    found = roles(repo)
    pages = {"README.md": index_page(found, repo)}
    for role, path in found:
        pages["roles/%s.md" % role] = role_page(role, path, repo)
    return pages


def write(pages, output):
    written = []
    for rel, text in sorted(pages.items()):
        path = os.path.join(output, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        old = None
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                old = handle.read()
        if old != text:
            tmp = path + ".tmp"
            with open(tmp, "w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
            os.replace(tmp, path)
            written.append(rel)
    # pages of roles that no longer exist
    roles_dir = os.path.join(output, "roles")
    removed = []
    if os.path.isdir(roles_dir):
        for name in sorted(os.listdir(roles_dir)):
            rel = "roles/" + name
            if name.endswith(".md") and rel not in pages:
                os.unlink(os.path.join(roles_dir, name))
                removed.append(rel)
    return written, removed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    parser.add_argument("--output", default=os.path.join(REPO, "docs", "reference"),
                        help="directory to write into (default: docs/reference)")
    args = parser.parse_args(argv)
    try:
        pages = render_all()
    except (OSError, ValueError, yaml.YAMLError) as exc:
        print("gen_role_reference: %s" % exc, file=sys.stderr)
        return 1
    written, removed = write(pages, args.output)
    for rel in written:
        print("wrote %s" % os.path.join(args.output, rel))
    for rel in removed:
        print("removed %s" % os.path.join(args.output, rel))
    if not written and not removed:
        print("%s is up to date (%d pages)" % (args.output, len(pages)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
