"""``python3 -m teamware_office_simulator``: the Teamware Office MIME connector SIMULATOR (tests only)."""

from __future__ import annotations

import sys

from .cli import main

sys.exit(main())
