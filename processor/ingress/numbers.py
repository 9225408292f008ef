"""Which gateway a carrier's ``To`` number belongs to, from the gateways file's ``number``."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from processor import codec
from processor.domain.gateways.config import Gateways

_NOT_ID = re.compile(r"[^A-Za-z0-9._:-]")


@dataclass(frozen=True, slots=True)
class NumberDirectory:
    by_number: Mapping[str, str]
    default_region: str | None = None

    @classmethod
    def of(cls, gateways: Gateways) -> NumberDirectory:
        """Each configured number under its spelling and, for phone numbers, its E.164 form
        (a short code such as 22395 has no E.164 form and is matched as written)."""
        by_number: dict[str, str] = {}
        for gid, config in gateways.by_id.items():
            if config.number:
                by_number[config.number] = gid
                e164 = codec.normalise_phone(config.number, config.default_region)
                if e164:
                    by_number[e164] = gid
        return cls(MappingProxyType(by_number), gateways.default.default_region)

    def gateway_for(self, to: str) -> tuple[str, bool]:
        """(gateway id, whether it was configured). A number nobody configured still gets a
        gateway (its digits, with the defaults): an opt-out sent to it must be honoured, never
        refused."""
        found = self.by_number.get(to)
        if found is None:
            e164 = codec.normalise_phone(to, self.default_region)
            found = self.by_number.get(e164) if e164 else None
        if found is not None:
            return found, True
        return _NOT_ID.sub("", to).lstrip("._:-") or "unknown", False
