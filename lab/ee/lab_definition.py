#!/usr/bin/env python
"""The lab's execution environment definition, derived from docs/ee/execution-environment.yml.

Used by lab/ee-build.sh (with a Python that has PyYAML, e.g. ansible-builder's own virtualenv):

  lab_definition.py requirements SITE_DEFINITION
      print the pip requirements of the image, one a line: the definition's ansible-core,
      ansible-runner and Python packages, and what ansible-builder's own build steps install
      (pip, bindep, pyyaml, packaging, dumb-init), so that lab/ee-build.sh can download them as
      wheels on the host and the image build needs no network
  lab_definition.py collections SITE_DEFINITION
      print the collections the site definition takes from a collection server (namespace.name,
      one a line), which lab/ee-build.sh packs from the toolchain's copy of the `ansible` package
  lab_definition.py pack COLLECTION_DIR OUT_DIR
      pack an installed collection (a directory with MANIFEST.json and FILES.json, such as those
      scripts/setup-venv.sh takes out of the `ansible` package) into the artifact
      OUT_DIR/<namespace>-<name>-<version>.tar.gz that `ansible-galaxy collection install` reads;
      print its file name
  lab_definition.py definition SITE_DEFINITION OUT_FILE BASE_IMAGE TAG
      write the lab's definition to OUT_FILE: the site definition's dependencies, with
        - the base image BASE_IMAGE (the lab's local image; nothing is pulled),
        - every collection from the tarballs in OUT_FILE's directory collections/ (no Galaxy server),
        - pip bootstrapped from the wheels in wheels/ (the base image has no pip and no ensurepip),
          and every pip install of the build served from those wheels only (/etc/pip.conf
          no-index, removed again at the end),
        - no package manager (PKGMGR_PRESERVE_CACHE=always: the base image is Debian, no dnf),
        - the image tagged TAG.
"""
from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import sys
import tarfile

import yaml

# What ansible-builder 3's generated Containerfile installs with pip besides the definition's
# dependencies: bindep, pyyaml and packaging in the builder stage, dumb-init as the init
# (options.container_init's default), and pip itself, which lab/ee-build.sh bootstraps.
BUILDER_PACKAGES = ["pip", "setuptools", "wheel", "bindep", "pyyaml", "packaging", "dumb-init==1.2.5"]

PIP_CONF = "[global]\\nno-index = true\\nfind-links = /wheels\\n"


def load(path: str) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def requirements(site: dict) -> list[str]:
    deps = site.get("dependencies", {})
    reqs = [deps[key]["package_pip"] for key in ("ansible_core", "ansible_runner") if key in deps]
    python = deps.get("python", [])
    if isinstance(python, str):
        raise SystemExit("lab_definition.py: dependencies.python as a file is not supported here; list the packages")
    return reqs + list(python) + BUILDER_PACKAGES


def server_collections(site: dict) -> list[str]:
    entries = site.get("dependencies", {}).get("galaxy", {}).get("collections", [])
    return [entry["name"] for entry in entries if entry.get("type", "galaxy") == "galaxy"]


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = 0o644
    tar.addfile(info, io.BytesIO(data))


def pack(collection_dir: str, out_dir: str) -> str:
    """The collection as an artifact, its FILES.json cut down to the files the directory has.

    The `ansible` package leaves out some files of its collections (CI configuration such as
    .azure-pipelines) but ships their original FILES.json, and `ansible-galaxy collection install`
    fails on a file that FILES.json lists and the artifact lacks.
    """
    with open(os.path.join(collection_dir, "MANIFEST.json"), encoding="utf-8") as handle:
        manifest = json.load(handle)
    with open(os.path.join(collection_dir, "FILES.json"), encoding="utf-8") as handle:
        files = json.load(handle)
    files["files"] = [entry for entry in files["files"]
                      if entry["name"] == "." or os.path.lexists(os.path.join(collection_dir, entry["name"]))]
    files_data = json.dumps(files, indent=4).encode("utf-8")
    manifest["file_manifest_file"]["chksum_sha256"] = hashlib.sha256(files_data).hexdigest()
    info = manifest["collection_info"]
    name = "%s-%s-%s.tar.gz" % (info["namespace"], info["name"], info["version"])
    out = os.path.join(out_dir, name)
    with tarfile.open(out + ".tmp", "w:gz") as tar:
        _add_bytes(tar, "MANIFEST.json", json.dumps(manifest, indent=4).encode("utf-8"))
        _add_bytes(tar, "FILES.json", files_data)
        for entry in files["files"]:
            if entry["name"] != ".":
                tar.add(os.path.join(collection_dir, entry["name"]), arcname=entry["name"], recursive=False)
    os.replace(out + ".tmp", out)
    return name


def definition(site: dict, out_file: str, base_image: str, tag: str) -> dict:
    out_dir = os.path.dirname(os.path.abspath(out_file))
    tarballs = sorted(os.path.basename(p) for p in glob.glob(os.path.join(out_dir, "collections", "*.tar.gz")))
    if not tarballs:
        raise SystemExit("lab_definition.py: no collection tarballs in %s/collections" % out_dir)
    deps = dict(site["dependencies"])
    deps["galaxy"] = {"collections": [{"name": "collections/" + name, "type": "file"} for name in tarballs]}
    return {
        "version": 3,
        "images": {"base_image": {"name": base_image}},
        "dependencies": deps,
        "build_arg_defaults": {
            "PKGMGR_PRESERVE_CACHE": "always",
            "ANSIBLE_GALAXY_CLI_COLLECTION_OPTS": "--offline",
        },
        "additional_build_files": [
            {"src": "collections/*.tar.gz", "dest": "collections"},
            {"src": "wheels/*.whl", "dest": "wheels"},
        ],
        "additional_build_steps": {
            "prepend_base": [
                "COPY _build/wheels/ /wheels/",
                "RUN printf '%s' > /etc/pip.conf && $PYCMD \"$(ls /wheels/pip-*.whl)/pip\" install --no-cache-dir pip"
                % PIP_CONF,
            ],
            "append_final": ["RUN rm -rf /wheels /etc/pip.conf"],
        },
        "options": {"skip_pip_install": True, "tags": [tag]},
    }


def main(argv: list[str]) -> int:
    if len(argv) == 3 and argv[1] == "requirements":
        print("\n".join(requirements(load(argv[2]))))
    elif len(argv) == 3 and argv[1] == "collections":
        print("\n".join(server_collections(load(argv[2]))))
    elif len(argv) == 4 and argv[1] == "pack":
        print(pack(argv[2], argv[3]))
    elif len(argv) == 6 and argv[1] == "definition":
        result = definition(load(argv[2]), argv[3], argv[4], argv[5])
        with open(argv[3], "w", encoding="utf-8") as handle:
            handle.write("# Written by lab/ee/lab_definition.py from %s; do not edit.\n" % argv[2])
            yaml.safe_dump(result, handle, sort_keys=False)
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
