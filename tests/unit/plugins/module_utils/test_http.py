"""The HTTP policy: URL checks, Retry-After, retries and readable transport failures (HttpClient over responses)."""

from __future__ import annotations

import email.utils
import random

import pytest
import requests
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError, TransportError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    RETRY_AFTER_CAP,
    HttpClient,
    RetryPolicy,
    check_url,
    describe_body,
    is_loopback,
    parse_retry_after,
)

URL = "https://api.test/V1/store/websites"
NOW = 1_800_000_000.0


class Sleeps(list):
    def __call__(self, seconds):
        self.append(seconds)


@pytest.fixture
def sleeps():
    return Sleeps()


@pytest.fixture
def mock():
    with responses.RequestsMock(assert_all_requests_are_fired=True) as rsps:
        yield rsps


def client(sleeps, retries=3, **kwargs):
    return HttpClient(timeout=2, policy=RetryPolicy(retries=retries, sleep=sleeps), **kwargs)


# --------------------------------------------------------------------------- Retry-After
@pytest.mark.parametrize("value,expected", [
    ("0", 0.0),
    ("1", 1.0),
    (" 7 ", 7.0),
    ("2.5", 2.5),
    ("-3", 0.0),
    (5, 5.0),
])
def test_retry_after_seconds(value, expected):
    assert parse_retry_after(value, now=NOW) == expected


def test_retry_after_http_date():
    future = email.utils.formatdate(NOW + 30, usegmt=True)
    past = email.utils.formatdate(NOW - 30, usegmt=True)
    assert parse_retry_after(future, now=NOW) == pytest.approx(30.0)
    assert parse_retry_after(past, now=NOW) == 0.0


@pytest.mark.parametrize("value", [None, "", "   ", "soon", "nan", "inf", "-inf", "Mon, 99 Foo 2026 xx:yy:zz GMT",
                                   "1e400"])
def test_retry_after_garbage_is_ignored(value):
    assert parse_retry_after(value, now=NOW) is None


def test_retry_after_is_capped():
    policy = RetryPolicy(sleep=lambda s: None)
    assert RETRY_AFTER_CAP == 60.0
    assert policy.delay(0, "3600") == 60.0
    assert policy.delay(0, email.utils.formatdate(NOW + 86400, usegmt=True)) == 60.0
    assert policy.delay(0, "12") == 12.0
    assert RetryPolicy(retry_after_cap=5).delay(0, "12") == 5.0


def test_backoff_without_retry_after_is_jittered_and_capped():
    random.seed(7)
    policy = RetryPolicy(backoff=0.5, backoff_cap=8.0)
    for attempt in range(8):
        for draw in range(50):
            delay = policy.delay(attempt, None)
            assert 0 <= delay <= min(8.0, 0.5 * 2 ** attempt)
    assert policy.delay(2, "garbage") <= 2.0  # unusable header: backoff


# --------------------------------------------------------------------------- retries
def test_429_with_retry_after_then_success(mock, sleeps):
    mock.add(responses.GET, URL, status=429, headers={"Retry-After": "1"}, json={"message": "slow down"})
    mock.add(responses.GET, URL, status=200, json=[])
    response = client(sleeps).request("GET", URL, "ACCS")
    assert response.status_code == 200 and sleeps == [1.0]
    assert len(mock.calls) == 2


def test_retry_after_above_the_cap_waits_the_cap(mock, sleeps):
    mock.add(responses.GET, URL, status=503, headers={"Retry-After": "86400"})
    mock.add(responses.GET, URL, status=200, json=[])
    client(sleeps).request("GET", URL, "ACCS")
    assert sleeps == [60.0]


@pytest.mark.parametrize("status", [429, 502, 503, 504])
def test_retryable_status_given_back_after_the_retries(mock, sleeps, status):
    for attempt in range(3):
        mock.add(responses.GET, URL, status=status, headers={"Retry-After": "0"})
    response = client(sleeps, retries=2).request("GET", URL, "ACCS")
    assert response.status_code == status
    assert len(mock.calls) == 3 and sleeps == [0.0, 0.0]


@pytest.mark.parametrize("status", [400, 401, 403, 404, 500])
def test_other_statuses_are_not_retried(mock, sleeps, status):
    mock.add(responses.GET, URL, status=status)
    assert client(sleeps).request("GET", URL, "ACCS").status_code == status
    assert sleeps == []


def test_connection_errors_are_retried_then_reported(mock, sleeps):
    for attempt in range(3):
        mock.add(responses.GET, URL, body=requests.exceptions.ConnectionError("refused"))
    with pytest.raises(TransportError) as info:
        client(sleeps, retries=2).request("GET", URL, "ACCS")
    assert info.value.message == ("Cannot connect to ACCS at api.test after 2 retries: check that the URL is right "
                                  "and the service is up, then run again.")
    assert len(sleeps) == 2


def test_connection_error_then_success(mock, sleeps):
    mock.add(responses.POST, URL, body=requests.exceptions.ConnectionError("reset"))
    mock.add(responses.POST, URL, status=200, json={})
    assert client(sleeps).request("POST", URL, "IMS").status_code == 200


def test_read_timeout_of_a_post_is_not_resent(mock, sleeps):
    mock.add(responses.POST, URL, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(TransportError) as info:
        client(sleeps).request("POST", URL, "IMS")
    assert info.value.message == ("IMS at api.test did not answer within 2 s: check the service's status, or raise "
                                  "timeout, and run again.")
    assert len(mock.calls) == 1 and sleeps == []


def test_read_timeout_of_a_get_is_retried(mock, sleeps):
    mock.add(responses.GET, URL, body=requests.exceptions.ReadTimeout("slow"))
    mock.add(responses.GET, URL, body=requests.exceptions.ReadTimeout("slow"))
    with pytest.raises(TransportError) as info:
        client(sleeps, retries=1).request("GET", URL, "ACCS")
    assert info.value.message == ("ACCS at api.test did not answer within 2 s after 1 retry: check that the URL is "
                                  "right and the service is up, then run again.")


def test_tls_failure_is_not_retried(mock, sleeps):
    mock.add(responses.GET, URL, body=requests.exceptions.SSLError(
        "[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: unable to get local issuer certificate (_ssl.c:1006)"))
    with pytest.raises(TransportError) as info:
        client(sleeps).request("GET", URL, "ACCS")
    assert info.value.message == ("TLS verification of ACCS at api.test failed (unable to get local issuer "
                                  "certificate): check the URL, or give the CA that signed its certificate with ca_path.")
    assert sleeps == []


def test_redirects_are_not_followed(mock, sleeps):
    mock.add(responses.GET, URL, status=302, headers={"Location": "https://elsewhere.test/"})
    assert client(sleeps).request("GET", URL, "ACCS").status_code == 302
    assert len(mock.calls) == 1


def test_ca_path_and_validate_certs(sleeps, tmp_path):
    ca = tmp_path / "ca.pem"
    assert client(sleeps, ca_path=str(ca)).verify == str(ca)
    warnings = []
    assert client(sleeps, validate_certs=False, warnings=warnings).verify is False
    assert len(warnings) == 1 and "validate_certs" in warnings[0]
    assert client(sleeps).verify is True


# --------------------------------------------------------------------------- URLs and bodies
@pytest.mark.parametrize("url", ["https://ims-na1.adobelogin.com", "https://ims.test/", "http://127.0.0.1:8080",
                                 "http://localhost:1", "http://[::1]:9", "http://app.localhost"])
def test_check_url_accepts(url):
    assert check_url(url, "ims_url") == url.strip().rstrip("/")


@pytest.mark.parametrize("url,fragment", [
    ("http://ims.example.com", "uses plain http:// for host ims.example.com"),
    ("http://10.0.0.1", "uses plain http:// for host 10.0.0.1"),
    ("ftp://ims.example.com", "is not an http(s) URL"),
    ("ims.example.com", "is not an http(s) URL"),
    ("", "is empty"),
    ("https://user:pw@ims.example.com", "holds credentials in the URL"),
    ("https://ims.example.com/?token=x", "must not carry a query string"),
])
def test_check_url_refuses(url, fragment):
    with pytest.raises(ConfigError) as info:
        check_url(url, "ims_url")
    assert fragment in info.value.message and info.value.message.startswith("Option ims_url ")
    assert "pw" not in info.value.message


@pytest.mark.parametrize("host,loopback", [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True),
                                           ("[::1]", True), ("localhost", True), ("LOCALHOST", True),
                                           ("10.0.0.1", False), ("example.com", False), ("", False),
                                           ("localhost.example.com", False)])
def test_is_loopback(host, loopback):
    assert is_loopback(host) is loopback


def _response(body, content_type):
    response = requests.models.Response()
    response._content = body
    response.headers["Content-Type"] = content_type
    return response


def test_describe_body():
    assert describe_body(_response(b"", "application/json")) == "an empty body"
    assert describe_body(_response(b"<html><body>502</body></html>", "text/plain")) == \
        "an HTML error page from a gateway or proxy"
    assert describe_body(_response(b"oops", "text/html; charset=utf-8")) == "an HTML error page from a gateway or proxy"
    assert describe_body(_response(b"{broken", "application/json")) == "a body that is not JSON, of type application/json"
    assert describe_body(_response(b"x", "")) == "a body that is not JSON, of type unknown"
