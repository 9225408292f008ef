"""Quiet hours: when a campaign (marketing) text may reach a phone, by the recipient's clock.

The rules are data (:mod:`processor.domain.quiet_hours_rules`): one row per jurisdiction and
effective date, each with the hours it permits per weekday and the citation it comes from. A
later row of a jurisdiction replaces the earlier one from its effective date on, so a statute
that changes is a new row, not an edit.

The recipient's time zones and jurisdictions come from the number alone (libphonenumber's
time-zone and geocoder data, as the statutes presume: Florida, Oklahoma and Connecticut treat a
call to one of their area codes as a call into the state). A number whose prefix spans several
zones may be texted only when it is permitted in every one of them, and a number inside a
jurisdiction is held to the federal rule and its state's rule at once: whichever is stricter
decides.

Pure: time-zone rules come from the zoneinfo database (the ``tzdata`` package where the system
has none), read like any other constant table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType
from zoneinfo import ZoneInfo

import phonenumbers
from phonenumbers import geocoder, timezone
from phonenumbers.geodata import GEOCODE_DATA

# A rule's clock: the recipient's own time zones (from the number).
LOCAL = "local"
# How far ahead the next permitted time is looked for; a rule set that permits nothing for a
# fortnight holds the send and looks again then.
SEARCH_DAYS = 14
UNKNOWN_ZONE = "Etc/Unknown"


@dataclass(frozen=True, slots=True)
class Hours:
    """Permitted local hours of one day: from ``start`` (inclusive) to ``end`` (exclusive)."""

    start: time
    end: time

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


def every_day(start: int, end: int) -> tuple[Hours, ...]:
    """The same hours, from ``start`` o'clock to ``end`` o'clock, Monday to Sunday."""
    return (Hours(time(start), time(end)),) * 7


@dataclass(frozen=True, slots=True)
class QuietHoursRule:
    """One jurisdiction's permitted hours for campaign texts, from a date on."""

    jurisdiction: str  # "US" (federal) or "US-XX" (a state, USPS code)
    effective: date  # first local day it applies (a later row of the jurisdiction replaces it)
    weekdays: tuple[Hours | None, ...]  # Monday .. Sunday; None: no campaign texts that day
    citation: str  # the statute or regulation
    source: str  # where the rule was verified (URL)
    note: str = ""
    # Where the hours are read: LOCAL (the recipient's zones) and/or fixed zones, all at once.
    clocks: tuple[str, ...] = (LOCAL,)
    # Local dates on which no campaign texts may be sent (holidays, as data).
    closed_on: tuple[date, ...] = ()

    def permits(self, local: datetime) -> bool:
        """Whether a text may arrive at this local wall-clock time."""
        if local.date() in self.closed_on:
            return False
        hours = self.weekdays[local.weekday()]
        return hours is not None and hours.start <= local.time() < hours.end

    def describe(self, local: datetime) -> str:
        """The day's hours in words, for a held send's detail."""
        hours = self.weekdays[local.weekday()]
        if local.date() in self.closed_on or hours is None:
            return f"no campaign texts on {local:%A %Y-%m-%d}"
        return f"hours {hours}"


@dataclass(frozen=True, slots=True)
class Recipient:
    """Where a number is presumed to be: its jurisdictions and its time zones."""

    jurisdictions: tuple[str, ...]
    zones: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Blocked:
    """Why a campaign text may not go now, and when it may."""

    rule: QuietHoursRule
    zone: str  # the clock the rule was read on
    local: datetime  # the time there
    sendable_at: int  # epoch ms; the first moment every rule permits

    @property
    def reason(self) -> str:
        return (f"Quiet hours: {self.local:%H:%M} on {self.local:%a} in {self.zone} is outside "
                f"the {self.rule.jurisdiction} {self.rule.describe(self.local)} "
                f"({self.rule.citation})")


@dataclass(frozen=True, slots=True, eq=False)
class QuietHours:
    """A rule table, indexed by jurisdiction (newest row first)."""

    rules: tuple[QuietHoursRule, ...]
    # Zones to assume for a number of a jurisdiction whose own zones are unknown: all of them.
    fallback_zones: Mapping[str, tuple[str, ...]] = field(
        default_factory=lambda: MappingProxyType({}))
    _index: Mapping[str, tuple[QuietHoursRule, ...]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        index: dict[str, list[QuietHoursRule]] = {}
        for rule in self.rules:
            if len(rule.weekdays) != 7:
                raise ValueError(f"{rule.jurisdiction} {rule.effective}: seven weekdays needed")
            index.setdefault(rule.jurisdiction, []).append(rule)
        object.__setattr__(self, "_index", MappingProxyType({
            j: tuple(sorted(rows, key=lambda r: r.effective, reverse=True))
            for j, rows in index.items()}))

    def covers(self, recipient: Recipient) -> bool:
        return any(j in self._index for j in recipient.jurisdictions)

    def in_force(self, jurisdiction: str, day: date) -> QuietHoursRule | None:
        """The row of ``jurisdiction`` that applies on ``day`` (local), if any."""
        return next((r for r in self._index.get(jurisdiction, ()) if r.effective <= day), None)

    def blocked(self, recipient: Recipient, now: int) -> Blocked | None:
        """None when a campaign text may go at ``now``; else why not and when it may."""
        found = self._forbidding(recipient, now)
        if found is None:
            return None
        rule, zone, local = found
        return Blocked(rule, zone, local, self._next_permitted(recipient, now))

    def _zones(self, recipient: Recipient) -> tuple[str, ...]:
        if recipient.zones and UNKNOWN_ZONE not in recipient.zones:
            return recipient.zones
        known = [z for j in recipient.jurisdictions for z in self.fallback_zones.get(j, ())]
        return tuple(dict.fromkeys(known)) or ("UTC",)

    def _forbidding(self, recipient: Recipient,
                    at: int) -> tuple[QuietHoursRule, str, datetime] | None:
        for zone in self._zones(recipient):
            local = _local(at, zone)
            for jurisdiction in recipient.jurisdictions:
                rule = self.in_force(jurisdiction, local.date())
                if rule is None:
                    continue
                for clock in rule.clocks:
                    where = zone if clock == LOCAL else clock
                    there = local if where == zone else _local(at, where)
                    if not rule.permits(there):
                        return rule, where, there
        return None

    def _next_permitted(self, recipient: Recipient, now: int) -> int:
        """The first moment after ``now`` at which every rule permits a text: some window
        opens (or a day begins) in one of the clocks involved, so only those are tried."""
        for candidate in self._candidates(recipient, now):
            if self._forbidding(recipient, candidate) is None:
                return candidate
        return now + SEARCH_DAYS * 86_400_000

    def _candidates(self, recipient: Recipient, now: int) -> Iterator[int]:
        clocks = set(self._zones(recipient))
        starts = {time(0)}
        for jurisdiction in recipient.jurisdictions:
            for rule in self._index.get(jurisdiction, ()):
                clocks.update(c for c in rule.clocks if c != LOCAL)
                starts.update(h.start for h in rule.weekdays if h is not None)
        found = set()
        for clock in clocks:
            zone = ZoneInfo(clock)
            first = _local(now, clock).date()
            for offset in range(SEARCH_DAYS + 1):
                day = first + timedelta(days=offset)
                for start in starts:
                    instant = _epoch_ms(datetime.combine(day, start, zone))
                    if instant > now:
                        found.add(instant)
        return iter(sorted(found))


def _local(ms: int, zone: str) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC).astimezone(ZoneInfo(zone))


def _epoch_ms(moment: datetime) -> int:
    # A wall-clock time that does not exist (inside a spring-forward gap) maps to the instant
    # the clock shows it after the jump; zoneinfo does that through the fold rules.
    return int(moment.timestamp() * 1000)


def format_instant(ms: int) -> str:
    """An instant the way records spell times: UTC, milliseconds, 'Z'."""
    moment = datetime.fromtimestamp(ms // 1000, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ms % 1000:03d}Z"


# Recipients ---------------------------------------------------------------------------------

# libphonenumber's regions that are United States territory: the TCPA and the FCC's rules
# apply to them as to the states.
US_REGIONS = frozenset({"US", "PR", "VI", "GU", "MP", "AS"})
US_STATES: Mapping[str, str] = MappingProxyType({
    "Alabama": "AL", "Alaska": "AK", "Arizona": "AZ", "Arkansas": "AR", "California": "CA",
    "Colorado": "CO", "Connecticut": "CT", "Delaware": "DE", "Washington D.C.": "DC",
    "Florida": "FL", "Georgia": "GA", "Hawaii": "HI", "Idaho": "ID", "Illinois": "IL",
    "Indiana": "IN", "Iowa": "IA", "Kansas": "KS", "Kentucky": "KY", "Louisiana": "LA",
    "Maine": "ME", "Maryland": "MD", "Massachusetts": "MA", "Michigan": "MI", "Minnesota": "MN",
    "Mississippi": "MS", "Missouri": "MO", "Montana": "MT", "Nebraska": "NE", "Nevada": "NV",
    "New Hampshire": "NH", "New Jersey": "NJ", "New Mexico": "NM", "New York": "NY",
    "North Carolina": "NC", "North Dakota": "ND", "Ohio": "OH", "Oklahoma": "OK",
    "Oregon": "OR", "Pennsylvania": "PA", "Rhode Island": "RI", "South Carolina": "SC",
    "South Dakota": "SD", "Tennessee": "TN", "Texas": "TX", "Utah": "UT", "Vermont": "VT",
    "Virginia": "VA", "Washington State": "WA", "West Virginia": "WV", "Wisconsin": "WI",
    "Wyoming": "WY",
})
_STATE_CODES = frozenset(US_STATES.values())


@lru_cache(maxsize=65536)
def recipient_of(phone: str) -> Recipient:
    """Where an E.164 number is presumed to be. US numbers: the federal jurisdiction "US" and
    the state of the area code; also the state of the exchange when libphonenumber places it
    in another state (both apply then). Zones: libphonenumber's, one or several."""
    number = phonenumbers.parse(phone)
    region = phonenumbers.region_code_for_number(number) or "ZZ"
    zones = tuple(timezone.time_zones_for_number(number))
    if region not in US_REGIONS:
        return Recipient((region,), zones)
    states = list(dict.fromkeys(s for s in (_area_code_state(number),
                                            _exchange_state(number)) if s))
    return Recipient(("US", *(f"US-{s}" for s in states)), zones)


def _area_code_state(number: phonenumbers.PhoneNumber) -> str | None:
    national = str(number.national_number)
    described = GEOCODE_DATA.get(f"1{national[:3]}", {}).get("en")
    return US_STATES.get(described) if described else None


def _exchange_state(number: phonenumbers.PhoneNumber) -> str | None:
    described = geocoder.description_for_number(number, "en")
    if ", " in described:  # "Jersey City, NJ"
        code = described.rsplit(", ", 1)[1]
        return code if code in _STATE_CODES else None
    return US_STATES.get(described)
