"""The HTTP policy: URL checks, Retry-After, retries and readable transport failures (HttpClient over responses)."""

from __future__ import annotations

import email.utils
import random

import pytest
import requests
import responses

from ansible_collections.adobe_commerce.accs.plugins.module_utils._errors import ConfigError, TransportError
from ansible_collections.adobe_commerce.accs.plugins.module_utils._http import (
    DROPPED,
    NOT_CONNECTED,
    RETRY_AFTER_CAP,
    SAFE_METHODS,
    TIMED_OUT,
    VAULT_READ_STATUSES,
    HttpClient,
    RetryPolicy,
    check_url,
    describe_body,
    failure_kind,
    is_loopback,
    parse_retry_after,
)

URL = "https://api.test/V1/store/websites"
NOW = 1_800_000_000.0


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


# --------------------------------------------------------------------------- the re-send decision
def _never_connected():
    """What requests raises when no connection could be made (refused port, unknown host)."""
    from urllib3.exceptions import MaxRetryError, NewConnectionError

    reason = NewConnectionError(None, "Failed to establish a new connection: [Errno 111] Connection refused")
    return requests.exceptions.ConnectionError(MaxRetryError(None, URL, reason))


def _dropped():
    """What requests raises when the server closed the connection after the request went out."""
    from urllib3.exceptions import ProtocolError

    return requests.exceptions.ConnectionError(ProtocolError("Connection aborted.", ConnectionResetError(104, "reset")))


@pytest.mark.parametrize("make,kind", [
    (_never_connected, NOT_CONNECTED),
    (lambda: requests.exceptions.ConnectTimeout("connect timed out"), NOT_CONNECTED),
    (lambda: requests.exceptions.ReadTimeout("read timed out"), TIMED_OUT),
    (_dropped, DROPPED),
    (lambda: requests.exceptions.ConnectionError("reset"), DROPPED),  # unknown cause: assume it was sent
    (lambda: requests.exceptions.SSLError("bad certificate"), None),
    (lambda: requests.exceptions.InvalidURL("no host"), None),
])
def test_failure_kind(make, kind):
    assert failure_kind(make()) == kind


@pytest.mark.parametrize("outcome,idempotent,unflagged,not_idempotent", [
    (429, True, True, True),
    (NOT_CONNECTED, True, True, True),
    (502, True, True, False),
    (503, True, True, False),
    (504, True, True, False),
    (DROPPED, True, True, False),
    (TIMED_OUT, True, False, False),
])
def test_may_resend(outcome, idempotent, unflagged, not_idempotent):
    assert RetryPolicy.may_resend(True, outcome) is idempotent
    assert RetryPolicy.may_resend(None, outcome) is unflagged
    assert RetryPolicy.may_resend(False, outcome) is not_idempotent


@pytest.mark.parametrize("method,flag", [("GET", True), ("head", True), ("OPTIONS", True), ("PUT", True),
                                         ("DELETE", True), ("POST", None), ("PATCH", None)])
def test_flag_by_method(method, flag):
    assert RetryPolicy.flag_for(method) is flag
    assert RetryPolicy.flag_for(method, idempotent=False) is False
    assert RetryPolicy.flag_for(method, idempotent=True) is True


@pytest.mark.parametrize("status", [502, 503, 504])
def test_a_non_idempotent_request_is_not_resent_after_a_gateway_error(mock, sleeps, status):
    mock.add(responses.PUT, URL, status=status)
    response = client(sleeps).request("PUT", URL, "ACCS", idempotent=False)
    assert response.status_code == status and len(mock.calls) == 1 and sleeps == []


def test_a_non_idempotent_request_is_resent_after_429(mock, sleeps):
    mock.add(responses.PUT, URL, status=429, headers={"Retry-After": "2"})
    mock.add(responses.PUT, URL, status=200, json={})
    assert client(sleeps).request("PUT", URL, "ACCS", idempotent=False).status_code == 200
    assert sleeps == [2.0]


def test_a_non_idempotent_request_is_resent_when_no_connection_was_made(mock, sleeps):
    mock.add(responses.POST, URL, body=_never_connected())
    mock.add(responses.POST, URL, status=200, json={})
    assert client(sleeps).request("POST", URL, "ACCS", idempotent=False).status_code == 200
    assert len(mock.calls) == 2


@pytest.mark.parametrize("failure,message", [
    (_dropped, "The connection to ACCS at api.test broke after the request was sent, so it was not sent again: "
               "check whether it took effect, then run again."),
    (lambda: requests.exceptions.ReadTimeout("slow"),
     "ACCS at api.test did not answer within 2 s: check the service's status, or raise timeout, and run again."),
])
def test_a_non_idempotent_request_is_not_resent_once_it_may_have_arrived(mock, sleeps, failure, message):
    mock.add(responses.PUT, URL, body=failure())
    with pytest.raises(TransportError) as info:
        client(sleeps).request("PUT", URL, "ACCS", idempotent=False)
    assert info.value.message == message
    assert len(mock.calls) == 1 and sleeps == []


def test_an_idempotent_put_is_resent_after_a_gateway_error_and_a_read_timeout(mock, sleeps):
    mock.add(responses.PUT, URL, status=503)
    mock.add(responses.PUT, URL, body=requests.exceptions.ReadTimeout("slow"))
    mock.add(responses.PUT, URL, status=200, json={})
    assert client(sleeps).request("PUT", URL, "ACCS").status_code == 200
    assert len(mock.calls) == 3


def test_an_unflagged_post_keeps_its_behaviour(mock, sleeps):
    # re-sent after a gateway error and a dropped connection, not after a read timeout (see the test above)
    mock.add(responses.POST, URL, status=503)
    mock.add(responses.POST, URL, body=_dropped())
    mock.add(responses.POST, URL, status=200, json={})
    assert client(sleeps).request("POST", URL, "IMS").status_code == 200
    assert len(mock.calls) == 3


def test_a_policy_limited_to_some_methods_sends_the_others_once(mock, sleeps):
    policy = RetryPolicy(retries=3, statuses=VAULT_READ_STATUSES, methods=SAFE_METHODS, sleep=sleeps)
    mock.add(responses.POST, URL, status=503)
    assert HttpClient(timeout=2, policy=policy).request("POST", URL, "Vault", idempotent=True).status_code == 503
    assert len(mock.calls) == 1 and sleeps == []


def test_deterministic_backoff_for_the_vault_write_and_rotation_loops():
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._token_manager import (
        rotation_poll_policy,
        write_retry_policy,
    )

    writes = write_retry_policy(sleep=None)
    assert writes.retries == 2 and [writes.delay(n) for n in range(2)] == [0.5, 1.0]
    polls = rotation_poll_policy(sleep=None)
    assert [polls.delay(n) for n in range(6)] == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5]


def test_the_defaults_come_from_the_spec():
    from ansible_collections.adobe_commerce.accs.plugins.module_utils._options import HTTP_SPEC

    http = HttpClient()
    assert http.timeout == HTTP_SPEC["timeout"]["default"]
    assert http.policy.retries == HTTP_SPEC["retries"]["default"]
