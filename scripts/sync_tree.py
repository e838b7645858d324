#!/usr/bin/env python
"""Mirror a list of files from SRC into DEST (like rsync -a --delete --files-from).

Usage: sync_tree.py SRC DEST < NUL-separated-relative-paths

Only the listed paths end up in DEST: files are copied when size or mtime
differ (symlinks are copied as symlinks), everything else in DEST is deleted,
except DEST/.git and DEST/tests/output (ansible-test's results).
"""
from __future__ import annotations

import os
import shutil
import stat
import sys

KEEP = {".git", os.path.join("tests", "output")}


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:  # removed meanwhile by someone else
        pass


def main() -> None:
    src, dest = (os.path.abspath(p) for p in sys.argv[1:3])
    names = [p for p in sys.stdin.buffer.read().decode("utf-8", "surrogateescape").split("\0") if p]
    wanted: set[str] = set()
    copied = 0

    for rel in names:
        s = os.path.join(src, rel)
        if not os.path.lexists(s):
            continue  # deleted in the work tree but still in the index
        d = os.path.join(dest, rel)
        wanted.add(rel)
        parent = os.path.dirname(rel)
        while parent:
            wanted.add(parent)
            parent = os.path.dirname(parent)
        sst = os.lstat(s)
        try:
            dst = os.lstat(d)
        except FileNotFoundError:
            dst = None
        if stat.S_ISLNK(sst.st_mode):
            link = os.readlink(s)
            if dst is not None and stat.S_ISLNK(dst.st_mode) and os.readlink(d) == link:
                continue
            if dst is not None:
                shutil.rmtree(d) if stat.S_ISDIR(dst.st_mode) else os.unlink(d)
            os.makedirs(os.path.dirname(d), exist_ok=True)
            os.symlink(link, d)
            copied += 1
            continue
        if not stat.S_ISREG(sst.st_mode):
            continue  # e.g. a submodule directory
        if (dst is not None and stat.S_ISREG(dst.st_mode) and dst.st_size == sst.st_size
                and int(dst.st_mtime) == int(sst.st_mtime) and stat.S_IMODE(dst.st_mode) == stat.S_IMODE(sst.st_mode)):
            continue
        if dst is not None and not stat.S_ISREG(dst.st_mode):
            shutil.rmtree(d) if stat.S_ISDIR(dst.st_mode) else os.unlink(d)
        os.makedirs(os.path.dirname(d), exist_ok=True)
        shutil.copy2(s, d, follow_symlinks=False)
        copied += 1

    removed = 0
    for root, dirs, files in os.walk(dest, topdown=True):
        rel_root = os.path.relpath(root, dest)
        rel_root = "" if rel_root == "." else rel_root
        for name in list(dirs):
            rel = os.path.join(rel_root, name)
            if rel in KEEP:
                dirs.remove(name)
            elif os.path.islink(os.path.join(root, name)):
                dirs.remove(name)
                if rel not in wanted:
                    _unlink(os.path.join(root, name))
                    removed += 1
            elif rel not in wanted:
                dirs.remove(name)
                shutil.rmtree(os.path.join(root, name), ignore_errors=True)
                removed += 1
        for name in files:
            rel = os.path.join(rel_root, name)
            if rel not in wanted:
                _unlink(os.path.join(root, name))
                removed += 1

    print(f"synced {sum(1 for n in names if n in wanted)} files into {dest} ({copied} copied, {removed} removed)")


if __name__ == "__main__":
    main()
