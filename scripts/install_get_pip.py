#!/usr/bin/env python
"""Install the offline get-pip stand-in that ansible-test's sanity venvs need.

Run with the toolchain venv's Python (the one that has ansible-core installed):

    .venv-py311/bin/python scripts/install_get_pip.py

It asks the installed ansible-test which pip version it bootstraps
(ansible_test._internal.python_requirements.get_venv_packages), downloads those
wheels with `pip download` into ~/.ansible/test/cache/get_pip_wheels/ and writes
~/.ansible/test/cache/get_pip_<X>_<Y>.py from scripts/get_pip_standin.py.
A real get-pip script already cached there (not ours) is left alone.
"""
from __future__ import annotations

import glob
import os
import re
import subprocess
import sys
import types

MARKER = "# teamware.qmail get-pip stand-in"


def bootstrap_packages() -> dict[str, str]:
    version = "%d.%d" % sys.version_info[:2]
    try:
        from ansible_test._internal.python_requirements import get_venv_packages  # pylint: disable=import-outside-toplevel
        return dict(get_venv_packages(types.SimpleNamespace(version=version)))
    except Exception as ex:  # pragma: no cover - fallback for a changed internal API
        import ansible_test  # pylint: disable=import-outside-toplevel
        path = os.path.join(os.path.dirname(ansible_test.__file__), "_internal", "python_requirements.py")
        with open(path, encoding="utf-8") as fh:
            match = re.search(r"pip='([0-9.]+)'", fh.read())
        if not match:
            raise SystemExit(f"cannot find ansible-test's pip bootstrap version ({ex})") from ex
        return {"pip": match.group(1)}


def main() -> None:
    cache = os.path.expanduser("~/.ansible/test/cache")
    wheel_dir = os.path.join(cache, "get_pip_wheels")
    os.makedirs(wheel_dir, exist_ok=True)

    packages = bootstrap_packages()
    pip_version = packages["pip"]
    target = os.path.join(cache, "get_pip_%s.py" % pip_version.replace(".", "_"))

    for name, version in packages.items():
        pattern = os.path.join(wheel_dir, "%s-%s-*.whl" % (name.replace("-", "_"), version))
        if glob.glob(pattern):
            continue
        print(f"downloading {name}=={version} wheel into {wheel_dir}", flush=True)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-input",
             "--no-deps", "--only-binary=:all:", "-d", wheel_dir, f"{name}=={version}"],
            check=True,
        )

    standin = os.path.join(os.path.dirname(os.path.abspath(__file__)), "get_pip_standin.py")
    with open(standin, encoding="utf-8") as fh:
        content = fh.read()

    if os.path.exists(target):
        with open(target, encoding="utf-8", errors="replace") as fh:
            current = fh.read()
        if not current.startswith(MARKER):
            print(f"keeping existing (real) get-pip script {target}")
            return
        if current == content:
            print(f"get-pip stand-in up to date: {target}")
            return

    tmp = target + ".tmp.%d" % os.getpid()
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(content)
    os.replace(tmp, target)
    print(f"wrote get-pip stand-in {target} (pip {pip_version})")


if __name__ == "__main__":
    main()
