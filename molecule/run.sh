#!/usr/bin/env bash
# `make molecule` (scripts/molecule.sh) runs this: every scenario through lab/run-scenarios.sh.
exec bash "$(dirname "$0")/../lab/run-scenarios.sh" "$@"
