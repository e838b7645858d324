#!/usr/bin/env python
"""Extract Ansible collections from a downloaded ``ansible`` package (wheel or sdist).

Usage: extract_collections.py ARCHIVE DEST COLLECTIONS_FILE

ARCHIVE is ansible-X.Y.Z-py3-none-any.whl or ansible-X.Y.Z.tar.gz from PyPI.
DEST receives DEST/ansible_collections/<namespace>/<name>/ for every collection
named in COLLECTIONS_FILE (one "namespace.name" per line, '#' comments), plus the
collections they depend on (MANIFEST.json "dependencies") when the package ships
them.  DEST is written from scratch: it is built next to itself and swapped in.
"""
from __future__ import annotations

import json
import os
import shutil
import sys
import tarfile
import zipfile

PREFIX = "ansible_collections/"


class Archive:
    """Uniform read access to a wheel (zip) or sdist (tar.gz)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.members: dict[str, object] = {}  # collection-relative path -> member
        if zipfile.is_zipfile(path):
            self._zip = zipfile.ZipFile(path)
            self._tar = None
            for info in self._zip.infolist():
                self._add(info.filename, info)
        else:
            self._zip = None
            self._tar = tarfile.open(path, "r:*")
            for info in self._tar.getmembers():
                # sdist: ansible-X.Y.Z/ansible_collections/...
                name = info.name.split("/", 1)[1] if "/" in info.name else info.name
                self._add(name, info)

    def _add(self, name: str, info: object) -> None:
        if name.startswith(PREFIX):
            self.members[name[len(PREFIX):]] = info

    def read(self, name: str) -> bytes:
        info = self.members[name]
        if self._zip is not None:
            return self._zip.read(info)  # type: ignore[arg-type]
        fh = self._tar.extractfile(info)  # type: ignore[union-attr,arg-type]
        if fh is None:
            raise KeyError(name)
        return fh.read()

    def is_dir(self, name: str) -> bool:
        info = self.members[name]
        if self._zip is not None:
            return info.is_dir()  # type: ignore[attr-defined]
        return info.isdir()  # type: ignore[attr-defined]

    def is_symlink(self, name: str) -> str | None:
        info = self.members[name]
        if self._zip is not None:
            mode = (info.external_attr >> 16) & 0o170000  # type: ignore[attr-defined]
            return self.read(name).decode() if mode == 0o120000 else None
        return info.linkname if info.issym() else None  # type: ignore[attr-defined]

    def has_collection(self, fqcn: str) -> bool:
        return fqcn.replace(".", "/") + "/MANIFEST.json" in self.members

    def manifest(self, fqcn: str) -> dict:
        return json.loads(self.read(fqcn.replace(".", "/") + "/MANIFEST.json"))


def wanted_collections(archive: Archive, names: list[str]) -> list[str]:
    result: list[str] = []
    todo = list(names)
    while todo:
        fqcn = todo.pop(0)
        if fqcn in result:
            continue
        if not archive.has_collection(fqcn):
            if fqcn in names:
                sys.exit(f"ERROR: {archive.path} does not contain collection {fqcn}")
            print(f"warning: dependency {fqcn} is not shipped in {os.path.basename(archive.path)}; skipped", file=sys.stderr)
            continue
        result.append(fqcn)
        deps = archive.manifest(fqcn).get("collection_info", {}).get("dependencies") or {}
        todo.extend(sorted(deps))
    return result


def extract(archive: Archive, fqcns: list[str], dest: str) -> None:
    root = os.path.join(dest, "ansible_collections")
    for fqcn in fqcns:
        prefix = fqcn.replace(".", "/") + "/"
        count = 0
        for name in sorted(archive.members):
            if not name.startswith(prefix):
                continue
            target = os.path.join(root, name)
            if os.path.relpath(target, root).startswith(".."):
                sys.exit(f"ERROR: unsafe path in archive: {name}")
            if archive.is_dir(name):
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            link = archive.is_symlink(name)
            if link is not None:
                os.symlink(link, target)
            else:
                with open(target, "wb") as fh:
                    fh.write(archive.read(name))
            count += 1
        manifest = archive.manifest(fqcn)["collection_info"]
        print(f"  {fqcn} {manifest['version']} ({count} files)")


def main() -> None:
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    archive_path, dest, list_file = sys.argv[1:]
    with open(list_file, encoding="utf-8") as fh:
        names = [line.split("#", 1)[0].strip() for line in fh]
    names = [n for n in names if n]

    archive = Archive(archive_path)
    fqcns = wanted_collections(archive, names)

    dest = os.path.abspath(dest)
    staging = dest + ".new"
    shutil.rmtree(staging, ignore_errors=True)
    os.makedirs(staging)
    print(f"extracting from {os.path.basename(archive_path)} into {dest}:")
    extract(archive, fqcns, staging)
    with open(os.path.join(staging, "collections.txt"), "w", encoding="utf-8") as fh:
        for fqcn in fqcns:
            fh.write(f"{fqcn} {archive.manifest(fqcn)['collection_info']['version']}\n")
    old = dest + ".old"
    shutil.rmtree(old, ignore_errors=True)
    if os.path.exists(dest):
        os.rename(dest, old)
    os.rename(staging, dest)
    shutil.rmtree(old, ignore_errors=True)


if __name__ == "__main__":
    main()
