# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    # What every desired-state module of the resource engine says it did (RETURN is not shared by fragments,
    # so this documents the behaviour; each module's RETURN lists the keys).
    DOCUMENTATION = r'''
options: {}
notes:
  - Reads each kind with one list call, writes only what differs and nothing in check mode; a second run writes
    nothing. C(--diff) shows each item's before and after, secrets masked as C((sensitive)).
  - A write that fails so that its effect is unknown (HTTP 5xx, a dropped connection) is not sent again blindly; the
    module lists again and writes only what still differs, once.
  - A refused item (HTTP 4xx) is reported in RV(rejected) with Commerce's own message; the others are still written,
    and the task fails naming every refused item.
'''
