"""The recorded codec corpus (tests/support/corpus.py): every record decoder on the corpus inputs
and outputs, the schema examples and randomly edited outputs must give the recorded verdict: the
same re-encoded bytes, or the same error type, field and reason."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

from processor import codec
from tests.support.corpus import gateways, read_codec_corpus, read_corpus


def _verdict(record: str, value: bytes,
             regions: Mapping[str, str]) -> bytes | tuple[str, str | None, str]:
    """The re-encoded record, or (error type, field, reason)."""
    try:
        decoded = codec.RECORDS[record].decode(value, regions)
    except codec.DecodeError as error:
        return error.error_type, error.field, str(error)
    return bytes(codec.RECORDS[record].encode(decoded))


def test_every_recorded_case_decodes_and_encodes_as_recorded() -> None:
    regions = gateways().regions
    seen: Counter[str] = Counter()
    for record, value, encoded, error_type, field, reason in read_codec_corpus():
        seen[error_type or "valid"] += 1
        verdict = _verdict(record, value, regions)
        if error_type is None:
            assert verdict == encoded, (record, value)
        else:
            assert verdict == (error_type, field, reason), (record, value)
    assert seen["valid"] > 3000
    assert len(seen) >= 12  # every error type the decoders can raise, and valid records


def test_recorded_outputs_decode_and_encode_to_the_same_bytes() -> None:
    count = 0
    for step in read_corpus():
        for output in step.outputs or ():
            record = codec.RECORD_FOR_TOPIC[output.topic]
            if output.value is not None:
                assert record.encode(record.decode(output.value)) == output.value
                count += 1
    assert count > 2000
