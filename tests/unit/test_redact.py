"""Every secret the process holds is taken out of every text it stores, logs or prints (issue 11)."""

from __future__ import annotations

import json
import logging

import pytest

from hailuo_tui.logs import RedactingFormatter
from hailuo_tui.logs import redact as redact_log
from hailuo_tui.provider import AuthResult
from hailuo_tui.provider.errors import HailuoError, ProtocolChanged, ServerError, ServiceError
from hailuo_tui.redact import SECRETS, Redactor, redact

TOKEN = "tok-7f3a9c/e1+b2=="  # not JWT-shaped: the patterns alone miss it
KEY = "mmk_Zr8qLw2Vx5"  # not sk- shaped either


def echoes(secret: str) -> list[str]:
    """The ways a hostile server or proxy has echoed a secret back in an error body."""
    inner = json.dumps({"headers": {"Authorization": f"Bearer {secret}", "token": secret}})
    return [
        json.dumps({"error": {"message": inner}}),  # JSON inside JSON: the quotes are escaped once
        json.dumps({"error": json.dumps({"message": inner})}),  # ... and twice
        f"<html><body><pre>token={secret}</pre><a href='/x?t={secret}'>back</a></body></html>",
        f"echo: {json.dumps(secret)} and {secret.replace('/', '%2F').replace('+', '%2B').replace('=', '%3D')}",
        f"{secret}{secret}",
    ]


def test_a_registered_secret_is_hidden_in_every_echo():
    redactor = Redactor()
    redactor.add(TOKEN)
    for body in echoes(TOKEN):
        out = redactor(body)
        assert "7f3a9c" not in out, out
        assert "<redacted>" in out


def test_a_secret_that_contains_another_is_hidden_whole():
    redactor = Redactor()
    redactor.add("abcd1234")
    redactor.add("xxabcd1234yy")
    assert redactor("[xxabcd1234yy]") == "[<redacted>]"


def test_short_or_empty_values_are_not_registered():
    redactor = Redactor()
    for value in (None, "", "  ", "abc", "ab12c"):
        redactor.add(value)
    assert redactor("abc and the ab12c") == "abc and the ab12c"


def test_url_passwords_are_hidden_registered_or_not():
    redactor = Redactor()
    redactor.add_url("http://me:s3cr3t-pw@proxy.local:3128")
    assert redactor("proxy said s3cr3t-pw") == "proxy said <redacted>"
    # a URL never registered (a redirect, an error quoting another host) loses its password too
    assert redactor("GET https://bob:pass@other.example/x failed") == "GET https://bob:<redacted>@other.example/x failed"
    assert redactor("mail me@example.com") == "mail me@example.com"


def test_an_auth_result_registers_its_token():
    assert redact(f"x {TOKEN} y") == f"x {TOKEN} y"
    AuthResult(TOKEN, "/p?q", 1)
    assert redact(f"x {TOKEN} y") == "x <redacted> y"


@pytest.mark.parametrize("cls", [HailuoError, ServerError, ServiceError])
def test_errors_never_quote_a_registered_secret(cls):
    SECRETS.add(KEY)
    for body in echoes(KEY):
        err = cls(f"The server said: {body}", detail=body)
        assert KEY not in err.message and KEY not in str(err) and KEY not in (err.detail or "")


def test_a_protocol_sample_is_redacted():
    SECRETS.add(KEY)
    assert KEY not in ProtocolChanged("odd", sample=f"data: {KEY}").sample


def test_the_debug_log_hides_registered_secrets_and_escapes():
    SECRETS.add(TOKEN)
    SECRETS.add(KEY)
    record = logging.LogRecord("hailuo_tui.x", logging.DEBUG, __file__, 1, "error body: %s",
                               (echoes(TOKEN)[1] + echoes(KEY)[2] + "\x1b]52;c;aGk=\x07",), None)
    line = RedactingFormatter("%(message)s").format(record)
    assert TOKEN not in line and KEY not in line and "7f3a9c" not in line and "\x1b" not in line
    assert redact_log(f"<pre>{KEY}</pre>") == "<pre><redacted></pre>"
