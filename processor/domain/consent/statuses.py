"""The consent statuses by the short names the rule tables use, and the sources that are the
phone's own word."""

from __future__ import annotations

from processor.domain.models.enums import ConsentSource, ConsentStatus

NO = ConsentStatus.NO_OPT_IN
PENDING = ConsentStatus.OPT_IN_PENDING
IN = ConsentStatus.OPT_IN
OUT = ConsentStatus.OPT_OUT
ANY_STATUS = frozenset(ConsentStatus)

# Sources that mean "the phone itself said so": only the phone can undo such an opt-out.
PHONE_SOURCES = frozenset({ConsentSource.KEYWORD, ConsentSource.CONFIRMATION})
