# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# pylint's astroid adds imports of IntEnum and namedtuple to every module named http (its model of
# the standard library's http package), which would read as unused imports here.
# pylint: disable=unused-import

from __future__ import annotations


class ModuleDocFragment:
    # HTTP behaviour towards IMS and ACCS.
    DOCUMENTATION = r'''
options:
  timeout:
    description: Seconds to wait for a connection and for each answer.
    type: int
    default: 30
  retries:
    description:
      - Retries on HTTP 429, 502, 503, 504 and connection failures, with jittered exponential backoff;
        a C(Retry-After) header is honoured up to 60 seconds.
      - A request that may have reached the server is sent again only when repeating it is safe (a token
        request is not sent again after a read timeout).
      - Vault reads (GET) are retried as many times, on HTTP 412, 429, 500, 502, 503, 504 and connection
        failures; Vault writes are check-and-set and retried by the token logic itself.
    type: int
    default: 3
  validate_certs:
    description: Verify TLS certificates of IMS and ACCS. Turning it off warns.
    type: bool
    default: true
  ca_path:
    description: CA bundle (PEM) to verify IMS and ACCS certificates with, instead of the system store.
    type: path
'''
