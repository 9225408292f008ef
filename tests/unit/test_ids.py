"""Ids and content digests stay what they were: event ids are on the topics and the digests of
stored outcomes are in Redis, so a cheaper computation must give the same strings."""

from __future__ import annotations

import hashlib

from hypothesis import given, settings
from hypothesis import strategies as st

from processor import codec
from processor.domain.engine import Input
from processor.domain.ids import derived_id, joined_id
from processor.domain.models.inputs import InboundMessage, SendRequest
from processor.pipeline.outcomes import content_digest
from tests.contract.test_codec import DOMAIN_RECORDS
from tests.support.corpus import gateways, read_codec_corpus


def reference_id(*parts: object) -> str:
    """The original definition: BLAKE2b-128 of the parts' str() joined by U+001F, as a UUID."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=16).hexdigest()
    return f"{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:]}"


def reference_digest(item: Input) -> str:
    """The original content digest."""
    if isinstance(item, InboundMessage):
        content: tuple[object, ...] = (item.to, item.gateway, item.body)
    elif isinstance(item, SendRequest):
        content = (item.gateway, item.body, item.kind, item.requested_by, item.campaign,
                   item.keyword)
    else:
        content = (item.type, item.gateway, item.keyword, item.actor, item.permissions,
                   item.import_status, item.new_phone, item.reason, item.until)
    return reference_id(*map(str, content))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=6))
def test_derived_ids_are_the_original_ones(parts: list[str]) -> None:
    assert derived_id(*parts) == reference_id(*parts) == joined_id("\x1f".join(parts))


@settings(max_examples=300, deadline=None)
@given(st.one_of(DOMAIN_RECORDS["inbound"], DOMAIN_RECORDS["send-request"],
                 DOMAIN_RECORDS["command"]))
def test_content_digests_are_the_original_ones(item: Input) -> None:
    assert content_digest(item) == reference_digest(item)


def test_a_known_id_keeps_its_spelling() -> None:
    assert derived_id("outbound", "r-1") == reference_id("outbound", "r-1")
    assert len(derived_id("x")) == 36


def test_decoded_inputs_of_the_corpus_have_the_original_digests() -> None:
    regions = gateways().regions
    checked = 0
    for record, value, encoded, _, _, _ in read_codec_corpus():
        if record in ("inbound", "send-request", "command") and encoded is not None:
            item = codec.RECORDS[record].decode(value, regions)
            assert content_digest(item) == reference_digest(item)
            checked += 1
    assert checked > 1000
