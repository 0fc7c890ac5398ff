# -*- coding: utf-8 -*-
# Copyright: adobe_commerce.accs contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""ACCS REST client: every call goes through one ``request`` that renews the token once on 401.

For internal collection use only.
"""

from __future__ import annotations

import hashlib
import json
import re
from urllib.parse import quote

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import (
    AccsApiError,
    ConfigError,
    TransportError,
    one_line,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    check_url,
    debug_id,
    debug_ref,
    describe_body,
    json_body,
)
from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import REST_SPEC, option_default

COMMERCE_MESSAGE_LIMIT = 500

MAX_PAGES = 10000
PAGE_SIZE_KEY = "searchCriteria[pageSize]"
CURRENT_PAGE_KEY = "searchCriteria[currentPage]"


def flatten_query(query, prefix=None):
    """(key, value) pairs the way Commerce (PHP) reads nested parameters.

    {"searchCriteria": {"filter_groups": [{"filters": [{"field": "sku"}]}]}} becomes
    searchCriteria[filter_groups][0][filters][0][field]=sku; a list of plain values
    becomes key[]=a&key[]=b.
    """
    pairs = []
    if query is None:
        return pairs
    if isinstance(query, dict):
        for key, value in query.items():
            name = "%s[%s]" % (prefix, key) if prefix else str(key)
            pairs.extend(flatten_query(value, name))
    elif isinstance(query, (list, tuple)):
        if prefix is None:
            raise ConfigError("Option query must be a dictionary.")
        if all(not isinstance(v, (dict, list, tuple)) for v in query):
            name = prefix if prefix.endswith("[]") else prefix + "[]"
            pairs.extend((name, _scalar(v)) for v in query)
        else:
            for index, value in enumerate(query):
                pairs.extend(flatten_query(value, "%s[%d]" % (prefix, index)))
    else:
        if prefix is None:
            raise ConfigError("Option query must be a dictionary.")
        pairs.append((prefix, _scalar(query)))
    return pairs


def _scalar(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    return str(value)


def commerce_message(body):
    """Commerce's ``message`` with %1 / %name placeholders filled from ``parameters``."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    message = body["message"]
    params = body.get("parameters")

    def fill(match):
        key = match.group(1)
        if isinstance(params, list) and key.isdigit():
            index = int(key) - 1
            if 0 <= index < len(params):
                return str(params[index])
        if isinstance(params, dict):
            if key in params:
                return str(params[key])
            if key.isdigit() and str(int(key) - 1) in params:
                return str(params[str(int(key) - 1)])
        return match.group(0)

    return one_line(re.sub(r"%(\w+)", fill, message), COMMERCE_MESSAGE_LIMIT)


class AccsResponse:
    def __init__(self, status, body, url, headers):
        self.status = status
        self.json = body
        self.url = url
        self.headers = headers


# Response headers that are safe and useful to return.
SAFE_HEADERS = ("content-type", "content-length", "x-debug-id", "x-request-id", "retry-after", "date",
                "cache-control", "etag", "last-modified", "x-ratelimit-limit", "x-ratelimit-remaining")


class TokenSource:
    """The access token for ACCS calls: a fixed one, or the token manager's (renewable)."""

    def __init__(self, manager=None, request=None, access_token=None):
        self.manager = manager
        self.request = request
        self.access_token = access_token
        self.result = None

    @property
    def renewable(self):
        return self.manager is not None

    def current(self):
        if self.access_token:
            return self.access_token
        if self.result is None:
            self.result = self.manager.token(self.request)
        return self.result.access_token

    def renew(self, rejected):
        self.result = self.manager.token(self.request, rejected=rejected)
        return self.result.access_token

    @property
    def credential(self):
        return self.result.credential if self.result else None


class AccsClient:
    def __init__(self, http, base_url, tokens, api_key=None, org_id=None, store_code=None, headers=None):
        self.http = http
        self.base_url = check_url(base_url, "base_url")
        self.tokens = tokens
        self.api_key = api_key
        self.org_id = org_id
        self.store_code = store_code
        self.extra_headers = dict(headers or {})
        self.refreshed_on_401 = False

    def url_for(self, path):
        if not isinstance(path, str) or not path.strip():
            raise ConfigError("Option path is empty: give the endpoint path, like /V1/store/storeConfigs.")
        path = path.strip()
        if re.match(r"^[a-z][a-z0-9+.-]*://", path, re.I):
            raise ConfigError("Option path must be a path like /V1/store/storeConfigs, not a full URL: put the host and tenant in base_url.")
        return self.base_url + "/" + quote(path.lstrip("/"), safe="/:@!$&'()*+,;=-._~%")

    def check_headers(self):
        """Refuse header values HTTP cannot carry (non Latin-1, line breaks) before anything is sent."""
        named = dict(self.extra_headers)
        named.update({"api_key": self.api_key, "org_id": self.org_id, "store_code": self.store_code})
        for name, value in named.items():
            if value is None:
                continue
            try:
                str(value).encode("latin-1")
            except UnicodeEncodeError:
                raise ConfigError("Option %s holds characters an HTTP header cannot carry: use its plain ASCII value." % _option_name(name))
            if "\r" in str(value) or "\n" in str(value):
                raise ConfigError("Option %s holds a line break, which an HTTP header cannot carry: remove it." % _option_name(name))

    def _headers(self, token, has_body, body_is_json):
        headers = {"Accept": "application/json"}
        if has_body and body_is_json:
            headers["Content-Type"] = "application/json"
        headers.update(self.extra_headers)
        if self.api_key:
            headers["x-api-key"] = self.api_key
        if self.org_id:
            headers["x-gw-ims-org-id"] = self.org_id
        if self.store_code:
            headers["Store"] = self.store_code
        headers["Authorization"] = "Bearer " + token
        return headers

    def request(self, method, path, query=None, body=None, status_codes=(200,), idempotent=None):
        """One call; ``idempotent`` flags whether it may be re-sent (None: by method; see _http.RetryPolicy).

        A caller that writes with ``idempotent=False`` reads back itself instead of a blind re-send.
        """
        method = method.upper()
        url = self.url_for(path)
        params = flatten_query(query) if isinstance(query, dict) else list(query or [])
        data = None
        body_is_json = False
        if body is not None:
            if isinstance(body, (dict, list)):
                data = json.dumps(body).encode("utf-8")
                body_is_json = True
            else:
                data = body if isinstance(body, bytes) else str(body).encode("utf-8")
                body_is_json = self._looks_json(data)
        self.check_headers()
        token = self.tokens.current()
        response = self.http.request(method, url, "ACCS", idempotent=idempotent, params=params, data=data,
                                     headers=self._headers(token, data is not None, body_is_json))
        if response.status_code == 401 and self.tokens.renewable and 401 not in status_codes:
            # A 401 was refused before any processing: sending it again with a new token is always safe.
            token = self.tokens.renew(rejected=token)
            self.refreshed_on_401 = True
            response = self.http.request(method, url, "ACCS", idempotent=idempotent, params=params, data=data,
                                         headers=self._headers(token, data is not None, body_is_json))
        shown_url = response.url if response.url else url
        if response.status_code not in status_codes:
            raise self._error(method, path, response)
        parsed = None
        if response.content and method != "HEAD":
            try:
                parsed = json_body(response)
            except ValueError:
                raise TransportError(
                    "ACCS answered HTTP %d for %s %s with %s instead of JSON%s: check that base_url points at the "
                    "ACCS REST API (https://<region>.api.commerce.adobe.com/<tenant-id>)."
                    % (response.status_code, method, path, describe_body(response), debug_ref(debug_id(response))))
        headers = {k.lower(): v for k, v in response.headers.items() if k.lower() in SAFE_HEADERS}
        return AccsResponse(response.status_code, parsed, shown_url, headers)

    @staticmethod
    def _looks_json(data):
        try:
            json.loads(data)
            return True
        except ValueError:
            return False

    def _error(self, method, path, response):
        status = response.status_code
        try:
            body = json_body(response)
        except ValueError:
            body = None
        message = commerce_message(body)
        said = "HTTP %d for %s %s" % (status, method, path)
        # Commerce's own text is quoted: it may hold several sentences of its own.
        said += (': "%s"' % message.replace('"', "'")) if message else " with %s" % describe_body(response)
        said += debug_ref(debug_id(response))
        if status == 401:
            if self.tokens.renewable:
                hint = ("the token was refused even after a refresh: check that the credential has the "
                        "commerce.accs scope and belongs to this instance's IMS organization")
            else:
                hint = ("the access token is invalid, expired or lacks the commerce.accs scope: pass a fresh token, "
                        "or use vault_path so the module renews it itself")
        elif status == 403:
            hint = ("the credential's organization or permissions do not allow this: check org_id "
                    "(x-gw-ims-org-id) and the integration's role in the Commerce admin")
        elif status == 404:
            hint = "check base_url (region and tenant id) and path"
        elif status == 429:
            hint = "ACCS kept rate-limiting after the retries: wait, lower the number of forks, and run again"
        elif status >= 500:
            hint = "the instance or its gateway is failing: retry later, and give the x-debug-id to Adobe support if it persists"
        else:
            hint = "fix the request, or add %d to status_code if this answer is expected" % status
        return AccsApiError("ACCS answered %s; %s." % (said, hint), status=status, body=body)

    def paginate(self, path, query=None, page_size=None, status_codes=(200,)):
        """All items of a search endpoint once each; (body, pages). ``page_size`` None: the spec's default."""
        page_size = option_default(REST_SPEC, "page_size") if page_size is None else page_size
        if not isinstance(page_size, int) or page_size < 1:
            raise ConfigError("Option page_size must be a positive integer.")
        base = [(k, v) for k, v in flatten_query(query or {}) if k not in (PAGE_SIZE_KEY, CURRENT_PAGE_KEY)]
        items, seen, pages, total, last = [], set(), 0, None, None
        search_criteria = None
        for page in range(1, MAX_PAGES + 1):
            params = base + [(PAGE_SIZE_KEY, str(page_size)), (CURRENT_PAGE_KEY, str(page))]
            answer = self.request("GET", path, query=params, status_codes=status_codes)
            body = answer.json
            if not isinstance(body, dict) or not isinstance(body.get("items"), list):
                raise TransportError(
                    "ACCS answered GET %s without an items list, so it cannot be paginated: use paginate only with "
                    "search endpoints such as /V1/products." % path)
            pages += 1
            search_criteria = body.get("search_criteria", search_criteria)
            if isinstance(body.get("total_count"), int) and not isinstance(body.get("total_count"), bool):
                total = body["total_count"]
            page_items = body["items"]
            signature = hashlib.sha256(json.dumps(page_items, sort_keys=True, default=str).encode()).hexdigest()
            if page_items and signature == last:
                break  # the server repeats its last page past the end
            last = signature
            for item in page_items:
                key = _item_key(item)
                if key not in seen:
                    seen.add(key)
                    items.append(item)
            if not page_items:
                break
            if total is not None and (len(items) >= total or page * page_size >= total):
                break
            if total is None and len(page_items) < page_size:
                break
        result = {"items": items, "total_count": total if total is not None else len(items)}
        if search_criteria is not None:
            result["search_criteria"] = search_criteria
        return result, pages


def _option_name(name):
    return name if name in ("api_key", "org_id", "store_code") else "headers (%s)" % name


def _item_key(item):
    if isinstance(item, dict) and "id" in item and isinstance(item["id"], (int, str)):
        return ("id", item["id"])
    return ("json", json.dumps(item, sort_keys=True, default=str))
