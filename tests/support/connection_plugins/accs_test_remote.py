# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test-only connection: the local connection under another transport name (issue 13, defect 9).

The collection's action plugins run their engine in the controller's worker when the connection
is ``local`` and send the module to the target (AnsiballZ) for any other connection.  This
plugin executes on this machine exactly like ``local`` but is not called ``local``, so tests
run the modules' own ``main()`` through AnsiballZ as a remote target would.  Enable it with
``ANSIBLE_CONNECTION_PLUGINS=tests/support/connection_plugins`` and
``ansible_connection: accs_test_remote``.
"""

from __future__ import annotations

DOCUMENTATION = """
    name: accs_test_remote
    short_description: run on the controller as if it were a remote target (tests only)
    description:
        - The local connection under another transport name, so action plugins that branch on the
          connection send modules through AnsiballZ.
    author: adobe_commerce.accs contributors
    options:
        become_success_timeout:
            type: int
            default: 10
            description: As for the local connection.
            vars:
                - name: ansible_local_become_success_timeout
        become_strip_preamble:
            type: bool
            default: true
            description: As for the local connection.
            vars:
                - name: ansible_local_become_strip_preamble
    extends_documentation_fragment:
        - connection_pipelining
"""

from ansible.plugins.connection.local import Connection as LocalConnection


class Connection(LocalConnection):
    transport = "accs_test_remote"
