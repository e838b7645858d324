"""SIMULATOR of the Teamware Office MIME connector, for tests only.

This package is NOT Teamware Office and contains no Teamware Office code.  It
imitates the few externally visible behaviours of the MIME connector that the
teamware.qmail collection depends on (see simulator/README.md):

* the ``torecvm`` program that qmail pipes inbound mail into (section 5.1 of
  "Integrating Qmail with Teamware Office");
* the SMTP listener that qmail-remote talks to (section 5.2);
* the acceptance rules of ``to.ini`` ``[MIME]`` (mode, allow, no_relay) and
  the ``own_node`` aliases of ``tombsmtp.ini`` (sections 4 and 5.2.4).

Accepted messages are written to a spool directory together with their
envelope so that tests can inspect what "Teamware Office" would have received.
"""

from __future__ import annotations

__version__ = '1.0.0'

SIMULATOR_NAME = 'teamware-office-simulator'
BANNER = 'Teamware Office MIME connector SIMULATOR (test double, not Teamware Office)'
