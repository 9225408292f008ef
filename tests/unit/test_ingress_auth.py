"""Signatures and tokens of the ingress, checked against Twilio's own RequestValidator and
against the rules of the tokens file."""

from __future__ import annotations

import hashlib
import hmac

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twilio.request_validator import RequestValidator

from processor.ingress.signatures import (
    body_signature,
    twilio_signature,
    valid_body_signature,
    valid_twilio_signature,
)
from processor.ingress.tokens import (
    Permission,
    TokenConfigError,
    hash_token,
    new_token,
    parse_tokens,
)

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=30)
_params = st.dictionaries(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)),
                                  min_size=1, max_size=12), _text, max_size=8)
_urls = st.sampled_from([
    "https://sms.example.com/webhooks/twilio/sms",
    "https://sms.example.com:443/webhooks/twilio/sms?a=1&b=%20",
    "http://127.0.0.1:8080/webhooks/twilio/sms",
    "http://user:pw@[::1]:9000/x",
])


@settings(max_examples=300)
@given(secret=st.text(min_size=1, max_size=40), url=_urls, params=_params,
       algorithm=st.sampled_from(["HMAC_SHA1", "HMAC_SHA256"]))
def test_our_twilio_signature_is_twilios(secret: str, url: str, params: dict[str, str],
                                         algorithm: str) -> None:
    validator = RequestValidator(secret)
    assert twilio_signature(secret, url, params.items(), algorithm) == \
        validator.compute_signature(url, params, algorithm)


@settings(max_examples=200)
@given(secret=st.text(min_size=1, max_size=40), url=_urls, params=_params,
       signed_with_port=st.booleans())
def test_we_accept_exactly_what_twilios_validator_accepts(
        secret: str, url: str, params: dict[str, str], signed_with_port: bool) -> None:
    validator = RequestValidator(secret)
    signed_url = url.replace("sms.example.com/", "sms.example.com:443/") \
        if signed_with_port else url
    signature = validator.compute_signature(signed_url, params)
    assert validator.validate(url, params, signature)
    assert valid_twilio_signature(secret, url, params.items(), signature)
    wrong = validator.compute_signature(signed_url, {**params, "Body": "changed"})
    assert valid_twilio_signature(secret, url, params.items(), wrong) == \
        validator.validate(url, params, wrong)


def test_twilio_signature_refusals() -> None:
    params = [("Body", "STOP")]
    good = RequestValidator("secret").compute_signature("https://a.example/x", dict(params))
    assert valid_twilio_signature("secret", "https://a.example/x", params, good)
    assert not valid_twilio_signature("", "https://a.example/x", params, good)
    assert not valid_twilio_signature("secret", "https://a.example/x", params, None)
    assert not valid_twilio_signature("secret", "https://a.example/x", params, good,
                                      "algorithm=HMAC_MD5")


def test_body_signature_is_hmac_sha256_of_the_body() -> None:
    body = b'{"message_id": "m"}'
    expected = hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert body_signature("k", body) == f"sha256={expected}"
    assert valid_body_signature("k", body, f"sha256={expected}")
    assert not valid_body_signature("k", body + b" ", f"sha256={expected}")
    assert not valid_body_signature("", body, f"sha256={expected}")
    assert not valid_body_signature("k", body, None)


def test_tokens_are_matched_by_hash_to_an_actor_and_permissions() -> None:
    token, other = new_token(), new_token()
    registry = parse_tokens({"tokens": [
        {"actor": "crm", "sha256": hash_token(token), "permissions": ["api_opt_in_out"]},
        {"actor": "agent", "sha256": hash_token(other).upper(), "permissions": []}]})
    caller = registry.authenticate(f"Bearer {token}")
    assert caller is not None
    assert (caller.actor, caller.permissions) == ("crm", frozenset({Permission.API_OPT_IN_OUT}))
    agent = registry.authenticate(f"bearer  {other} ")
    assert agent is not None
    assert agent.actor == "agent"
    for header in (None, "", "Bearer", f"Basic {token}", f"Bearer {token}x", token,
                   f"Bearer {hash_token(token)}"):
        assert registry.authenticate(header) is None


@pytest.mark.parametrize(("data", "message"), [
    ({"tokens": [{"actor": "a", "sha256": "abc", "permissions": []}]}, "tokens[0].sha256"),
    ({"tokens": [{"actor": "", "sha256": "a" * 64, "permissions": []}]}, "tokens[0].actor"),
    ({"tokens": [{"actor": "a", "sha256": "a" * 64, "permissions": ["root"]}]},
     "unknown permission"),
    ({"tokens": [{"actor": "a", "sha256": "a" * 64, "permissions": [], "token": "x"}]},
     "unknown keys"),
    ({"tokens": [{"actor": "a", "sha256": "a" * 64, "permissions": []},
                 {"actor": "b", "sha256": "A" * 64, "permissions": []}]}, "twice"),
    ({"tokens": {"actor": "a"}}, "expected a list"),
    ({"users": []}, "one key"),
])
def test_a_bad_tokens_file_names_the_entry(data: dict[str, object], message: str) -> None:
    with pytest.raises(TokenConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_tokens(data)  # type: ignore[arg-type]
