# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # Removing what is not declared, limited to what one app owns.
    DOCUMENTATION = r'''
options:
  prune:
    description:
      - Remove the items ACCS holds that the declaration does not name, among those whose name starts with
        O(owner_prefix) only, so one app never removes another's.
      - Refused without O(owner_prefix).
    type: bool
    default: false
  owner_prefix:
    description: The prefix this app's names start with (for webhooks the C(batch_name), for subscriptions the C(name)).
    type: str
'''
