# Copyright: teamware.qmail contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check the documentation; exit 1 with a list of every problem found.

    python3 scripts/docs/check_docs.py [--no-anchors]

1. The variable reference (docs/reference/) is what scripts/docs/gen_role_reference.py
   writes from the roles' meta/argument_specs.yml, byte for byte (it is regenerated
   into a temporary directory and compared).
2. Every relative link and image in docs/**/*.md and README.md resolves to a file or
   directory inside the repository; a link to a heading of a Markdown page must name a
   heading that exists (GitHub's anchor rules; --no-anchors skips this).
3. Every diagram source docs/diagrams/NAME.dot has its picture docs/images/NAME.svg,
   rendered from the source as it is now (the SVG carries the sha256 of its source,
   written by scripts/docs/render_diagrams.sh); every picture has a source and is shown
   by some page.
4. Every integration method of plugins/module_utils/methods.py has its page
   docs/methods/NAME.md and its diagram docs/diagrams/NAME.dot, and the plain lists of the
   methods are what scripts/docs/gen_method_lists.py writes.
5. The execution environment: docs/ee/execution-environment.yml installs the collection
   tarball of galaxy.yml's version, and the requirement files that
   meta/execution-environment.yml names exist.

Offline, no Graphviz needed: Python 3 with PyYAML (the project's venvs have it).
"""

from __future__ import absolute_import, division, print_function

import argparse
import hashlib
import os
import re
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, HERE)

import gen_role_reference  # noqa: E402  (beside this file)
import gen_method_lists  # noqa: E402  (beside this file)

DOCS = os.path.join(REPO, "docs")
REFERENCE = os.path.join(DOCS, "reference")

_FENCE = re.compile(r"^(\s*)(```|~~~)")
_INLINE_CODE = re.compile(r"(`+)(?:(?!\1).)+?\1")
# [text](target "title") and ![alt](target); target may be <...>
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*(<[^>]*>|[^)\s]+)(?:\s+(?:\"[^\"]*\"|'[^']*'))?\s*\)")
_REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)")
_HTML_REF = re.compile(r"<(?:img|a|source)\b[^>]*?\b(?:src|href|srcset)\s*=\s*[\"']([^\"']+)[\"']", re.I)
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
_SVG_SOURCE = re.compile(r"<!-- source: (\S+) sha256=([0-9a-f]{64}) \(scripts/docs/render_diagrams\.sh\) -->")
_METHOD = re.compile(r'Method\("([a-z_]+)",\s*"([0-9.]+)"')
# Pages whose links are written relative to another directory: the README proposal is text
# for README.md at the repository root.


def rel(path):
    return os.path.relpath(path, REPO)


def markdown_files():
    files = []
    readme = os.path.join(REPO, "README.md")
    if os.path.isfile(readme):
        files.append(readme)
    for root, dirs, names in os.walk(DOCS):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        files += [os.path.join(root, n) for n in sorted(names) if n.endswith(".md")]
    return files


def _strip_code(lines):
    """Lines with fenced blocks blanked and inline code removed (links there are not links)."""
    out = []
    fence = None
    for line in lines:
        match = _FENCE.match(line)
        if fence is None and match:
            fence = match.group(2)
            out.append("")
            continue
        if fence is not None:
            if line.strip().startswith(fence):
                fence = None
            out.append("")
            continue
        if line.startswith("    ") and (not out or not out[-1].strip()):
            # indented code block start: keep it simple, treat as text only when it looks like a list item
            pass
        out.append(_INLINE_CODE.sub("", line))
    return out


def github_anchor(text, seen):
    """The id GitHub gives a heading (lower case, punctuation other than - and _ dropped, spaces to -)."""
    text = re.sub(r"<[^>]+>", "", text)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    text = text.replace("`", "").strip().lower()
    slug = re.sub(r"[^\w\- ]", "", text, flags=re.UNICODE).replace(" ", "-")
    count = seen.get(slug, 0)
    seen[slug] = count + 1
    return slug if count == 0 else "%s-%d" % (slug, count)


_anchor_cache = {}


def anchors_of(path):
    if path not in _anchor_cache:
        with open(path, encoding="utf-8") as handle:
            lines = handle.read().split("\n")
        seen = {}
        found = set()
        fence = None
        for line in lines:
            match = _FENCE.match(line)
            if fence is None and match:
                fence = match.group(2)
                continue
            if fence is not None:
                if line.strip().startswith(fence):
                    fence = None
                continue
            heading = re.match(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if heading:
                found.add(github_anchor(heading.group(2), seen))
            for explicit in re.findall(r"<a\s+(?:name|id)=[\"']([^\"']+)[\"']", line):
                found.add(explicit)
        _anchor_cache[path] = found
    return _anchor_cache[path]


def check_links(problems, check_anchors=True):
    images_used = set()
    for path in markdown_files():
        with open(path, encoding="utf-8") as handle:
            lines = _strip_code(handle.read().split("\n"))
        for number, line in enumerate(lines, 1):
            targets = [m.group(1) for m in _LINK.finditer(line)]
            targets += [m.group(1) for m in _REF_DEF.finditer(line)]
            targets += [m.group(1) for m in _HTML_REF.finditer(line)]
            for target in targets:
                target = target.strip("<>").strip()
                where = "%s:%d" % (rel(path), number)
                if not target or _SCHEME.match(target) or target.startswith("//"):
                    continue
                base, dummy, anchor = target.partition("#")
                base = base.split("?", 1)[0]
                if not base:
                    resolved = path
                else:
                    from_dir = REPO if base.startswith("/") else os.path.dirname(path)
                    resolved = os.path.normpath(os.path.join(from_dir, base.lstrip("/")))
                inside = os.path.commonpath([REPO, resolved]) == REPO
                if not inside:
                    problems.append("%s: link %r points outside the repository" % (where, target))
                    continue
                if not os.path.exists(resolved):
                    problems.append("%s: link %r: %s does not exist" % (where, target, rel(resolved)))
                    continue
                if resolved.endswith(".svg") or resolved.endswith(".png"):
                    images_used.add(resolved)
                if anchor and check_anchors and resolved.endswith(".md") and os.path.isfile(resolved):
                    if anchor not in anchors_of(resolved):
                        problems.append("%s: link %r: %s has no heading with anchor #%s" % (where, target, rel(resolved), anchor))
    return images_used


def check_reference(problems):
    try:
        expected = gen_role_reference.render_all(REPO)
    except Exception as exc:  # noqa: BLE001 - report any generator failure as a problem
        problems.append("docs/reference: the generator failed: %s" % exc)
        return
    with tempfile.TemporaryDirectory(prefix="teamware-docs-") as tmp:
        gen_role_reference.write(expected, tmp)
        fresh = {}
        for root, dummy, names in os.walk(tmp):
            for name in names:
                full = os.path.join(root, name)
                with open(full, encoding="utf-8") as handle:
                    fresh[os.path.relpath(full, tmp)] = handle.read()
    present = {}
    if os.path.isdir(REFERENCE):
        for root, dummy, names in os.walk(REFERENCE):
            for name in names:
                full = os.path.join(root, name)
                with open(full, encoding="utf-8") as handle:
                    present[os.path.relpath(full, REFERENCE)] = handle.read()
    hint = "run: python3 scripts/docs/gen_role_reference.py"
    for name in sorted(set(fresh) - set(present)):
        problems.append("docs/reference/%s is missing (%s)" % (name, hint))
    for name in sorted(set(present) - set(fresh)):
        problems.append("docs/reference/%s is not written by the generator: remove it (%s)" % (name, hint))
    for name in sorted(set(fresh) & set(present)):
        if fresh[name] != present[name]:
            old, new = present[name].split("\n"), fresh[name].split("\n")
            line = next((i + 1 for i, (a, b) in enumerate(zip(old, new)) if a != b), min(len(old), len(new)) + 1)
            problems.append("docs/reference/%s differs from the argument_specs (first at line %d; %s)" % (name, line, hint))


def check_diagrams(problems, images_used):
    src_dir = os.path.join(DOCS, "diagrams")
    img_dir = os.path.join(DOCS, "images")
    sources = sorted(n[:-4] for n in os.listdir(src_dir) if n.endswith(".dot")) if os.path.isdir(src_dir) else []
    hint = "run: scripts/docs/render_diagrams.sh"
    for name in sources:
        dot = os.path.join(src_dir, name + ".dot")
        svg = os.path.join(img_dir, name + ".svg")
        if not os.path.isfile(svg):
            problems.append("docs/diagrams/%s.dot has no picture docs/images/%s.svg (%s)" % (name, name, hint))
            continue
        with open(dot, "rb") as handle:
            digest = hashlib.sha256(handle.read()).hexdigest()
        with open(svg, encoding="utf-8", errors="replace") as handle:
            match = _SVG_SOURCE.search(handle.read(4096))
        if not match:
            problems.append("docs/images/%s.svg was not rendered by render_diagrams.sh (no source comment; %s)" % (name, hint))
        elif match.group(1) != "docs/diagrams/%s.dot" % name or match.group(2) != digest:
            problems.append("docs/images/%s.svg is older than docs/diagrams/%s.dot (%s)" % (name, name, hint))
    if os.path.isdir(img_dir):
        for name in sorted(os.listdir(img_dir)):
            full = os.path.join(img_dir, name)
            stem, ext = os.path.splitext(name)
            if ext == ".svg" and stem not in sources:
                problems.append("docs/images/%s has no source docs/diagrams/%s.dot" % (name, stem))
            if ext in (".svg", ".png") and full not in images_used:
                problems.append("docs/images/%s is shown by no page" % name)


def check_methods(problems):
    path = os.path.join(REPO, "plugins", "module_utils", "methods.py")
    try:
        with open(path, encoding="utf-8") as handle:
            methods = _METHOD.findall(handle.read())
    except OSError as exc:
        problems.append("cannot read %s: %s" % (rel(path), exc))
        return
    if not methods:
        problems.append("found no Method(...) entries in %s; update check_methods()" % rel(path))
    for name, section in methods:
        for needed in ("docs/methods/%s.md" % name, "docs/diagrams/%s.dot" % name):
            if not os.path.isfile(os.path.join(REPO, needed)):
                problems.append("method %s (section %s) has no %s" % (name, section, needed))
    try:
        rendered = gen_method_lists.rendered(REPO)
    except (OSError, ValueError) as exc:
        problems.append("scripts/docs/gen_method_lists.py: %s" % exc)
        return
    for path, (current, new) in sorted(rendered.items()):
        if current != new:
            problems.append("%s: the list of methods differs from METHODS; run scripts/docs/gen_method_lists.py" % path)


def check_execution_environment(problems):
    import yaml

    def load(path):
        try:
            with open(os.path.join(REPO, path), encoding="utf-8") as handle:
                return yaml.safe_load(handle) or {}
        except (OSError, yaml.YAMLError) as exc:
            problems.append("%s: %s" % (path, exc))
            return None

    galaxy = load("galaxy.yml")
    definition = load("docs/ee/execution-environment.yml")
    if galaxy is not None and definition is not None:
        wanted = "teamware-qmail-%s.tar.gz" % galaxy.get("version")
        names = [str(c.get("name", "")) for c in
                 ((definition.get("dependencies") or {}).get("galaxy") or {}).get("collections") or []
                 if isinstance(c, dict)]
        tarballs = [n for n in names if n.endswith(".tar.gz")]
        if not any(os.path.basename(n) == wanted for n in tarballs):
            problems.append("docs/ee/execution-environment.yml installs %s, but galaxy.yml's version needs %s"
                            % (", ".join(tarballs) or "no collection tarball", wanted))
    meta = load("meta/execution-environment.yml")
    if meta is not None:
        for kind, rel_path in sorted(((meta.get("dependencies") or {}).items())):
            if not isinstance(rel_path, str) or not os.path.isfile(os.path.join(REPO, rel_path)):
                problems.append("meta/execution-environment.yml: dependencies.%s must name a file relative to the "
                                "collection root (ansible-builder's introspection reads it), not %r" % (kind, rel_path))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Check the documentation of teamware.qmail.")
    parser.add_argument("--no-anchors", action="store_true", help="do not check #anchors of links to Markdown pages")
    args = parser.parse_args(argv)
    problems = []
    check_reference(problems)
    images_used = check_links(problems, check_anchors=not args.no_anchors)
    check_diagrams(problems, images_used)
    check_methods(problems)
    check_execution_environment(problems)
    pages = len(markdown_files())
    if problems:
        print("check_docs: %d problem(s) in %d pages:" % (len(problems), pages))
        for problem in problems:
            print("  - " + problem)
        return 1
    print("check_docs: ok (%d pages, reference, diagrams and method pages checked)" % pages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
