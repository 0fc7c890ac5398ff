# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Files the collection writes on the controller: reports and the recovery file."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path, text, mode=0o644):
    """Write ``text`` to ``path`` through a temporary file and a rename, so readers never see half a file.

    The temporary file is created with mode 0600 and only then given ``mode``: a secret never sits
    in a readable file, not even for a moment.
    """
    handle, temp = tempfile.mkstemp(dir=os.path.dirname(path) or ".", prefix=".accs-")
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except OSError:
            pass
        raise
