"""The quiet-hours rules consent-gate enforces for campaign texts: data, one row per jurisdiction
and effective date, each verified against the source it cites (December 2026).

Add a rule by adding a row; change one by adding a row with a later ``effective`` date (the
newest row in force on the recipient's local date applies). Every row must cite the statute
or regulation and the page it was checked against. ``tests/unit/test_quiet_hours.py`` holds
each row to its hours, so a typo here fails a test.

Checked and deliberately not encoded (see README, "Quiet hours"):

* New Jersey: N.J.S.A. 56:8-128(d) forbids unsolicited telemarketing calls "between the hours
  of 9:00 p.m. and 8:00 a.m., local time" (8:00-21:00, the federal window), not 8:00-20:00.
* Texas: the sources found disagree (Tex. Bus. & Com. Code §301.051's hours could not be read
  from a primary source), so no row is encoded rather than a guessed one.
* Holidays (Louisiana's Public Service Commission list, Alabama, Pennsylvania, Rhode Island,
  Utah): rows support ``closed_on`` dates, but no holiday list was verified; none is encoded.
"""

from __future__ import annotations

from datetime import date, time
from types import MappingProxyType

from processor.domain.quiet_hours import Hours, QuietHours, QuietHoursRule, every_day

_MON_SAT_8_20 = (*(Hours(time(8), time(20)),) * 6, None)

QUIET_HOURS_RULES: tuple[QuietHoursRule, ...] = (
    QuietHoursRule(
        "US", date(1992, 12, 20), every_day(8, 21),
        citation="47 CFR 64.1200(c)(1) (TCPA rules, FCC 92-443, 7 FCC Rcd 8752)",
        source="https://transition.fcc.gov/Bureaus/Common_Carrier/Orders/1994/fcc92443.txt",
        note="No telephone solicitation 'before the hour of 8 a.m. or after 9 p.m. (local time "
             "at the called party's location)'; texts are calls under the TCPA. The FCC "
             "adopted the rule in FCC 92-443 (1992-09-17); its TCPA rules took effect on "
             "1992-12-20 (Mobile Secure Gateway's TCPA summary; Pub. L. 102-243 was enacted "
             "1991-12-20)."),
    QuietHoursRule(
        "US-FL", date(2021, 7, 1), every_day(8, 20),
        citation="Fla. Stat. §501.616(6)(a), as amended by ch. 2021-185, Laws of Fla. "
                 "(CS/SB 1120)",
        source="https://flsenate.gov/Session/Bill/2021/1120/BillText/er/HTML",
        note="'before 8 a.m. or after 8 p.m. local time in the called person's time zone' "
             "(was 9 p.m.). The same act presumes a call to a Florida area code is made to a "
             "Florida resident (§501.059). §501.616(6)(b), at most three calls on the same "
             "subject in 24 hours, is a frequency cap: configure frequency_cap per gateway."),
    QuietHoursRule(
        "US-OK", date(2022, 11, 1), every_day(8, 20),
        citation="Telephone Solicitation Act of 2022, 15 O.S. §775C.4 (HB 3168)",
        source="https://app.legiplex.com/ok/legislature/2022/2022-r/bills/hb3168/drafts-latest",
        note="Sales calls only 8:00 a.m. to 8:00 p.m. (was 9 p.m.), at most three in 24 hours "
             "on the same matter; rebuttable presumption for Oklahoma area codes. Section "
             "number per ClickPoint's state table (blog.clickpointsoftware.com, July 2025); "
             "effective date per Lerman Senter and Benesch client alerts."),
    QuietHoursRule(
        "US-MD", date(2024, 1, 1), every_day(8, 20),
        citation="Stop the Spam Calls Act of 2023, Md. Code Ann., Com. Law §14-4501 et seq. "
                 "(SB 90, 2023)",
        source="https://www.wmar2news.com/local/law-to-prevent-spam-calls-takes-effect-first-"
               "of-the-year",
        note="'between 8:00am and 8:00pm in the called party's time zone', at most three "
             "calls or texts per 24 hours on the same subject; in force 2024-01-01 (also "
             "DataGuidance and Kelley Drye, 2024)."),
    QuietHoursRule(
        "US-MS", date(2003, 7, 1), _MON_SAT_8_20,
        citation="Miss. Code Ann. §77-3-723(1) (Mississippi Telephone Solicitation Act, Laws "
                 "2003, ch. 478)",
        source="https://getpocketlaw.com/law/state_mississippi/section-77-3-723-rules-for-"
               "authorized-calls_57b73fa7ff73",
        note="'only between the hours of 8:00 a.m. and 8:00 p.m. Central Standard Time. No "
             "telephone solicitations may be made on a Sunday.' Read on both clocks, local "
             "time and Central Standard Time (UTC-6 all year), so daylight time cannot stretch "
             "the window (9:00-20:00 CDT in summer). The legal-holiday ban was a Public "
             "Service Commission rule, repealed in 2023 (dnc.com, 2024-06-03).",
        clocks=("local", "Etc/GMT+6")),
    QuietHoursRule(
        "US-MA", date(2003, 1, 1), every_day(8, 20),
        citation="M.G.L. c. 159C (St. 2002, c. 265); 201 CMR 12.02(2)",
        source="https://regulations.justia.com/states/massachusetts/201-cmr/title-201-cmr-12-00/"
               "section-12-02",
        note="No unsolicited telephonic sales call 'between the hours of 8:00 P.M. to 8:00 "
             "A.M., local time at the consumer's location'; the Act took effect 2003-01-01 "
             "(mass.gov, Office of Consumer Affairs and Business Regulation)."),
    QuietHoursRule(
        "US-CT", date(2023, 10, 1), every_day(9, 20),
        citation="Conn. Gen. Stat. §42-288a, as amended by P.A. 23-98 (SB 1058)",
        source="https://tcpaworld.com/2023/06/28/connecticut-rolls-out-new-telemarketing-"
               "requirements-here-is-what-you-need-to-know/",
        note="'between the hours of nine o'clock a.m. and eight o'clock p.m. local time' (was "
             "9 p.m.), in force 2023-10-01 (Klein Moynihan Turco via Mondaq; Wofsey Rosen). "
             "Calls to a Connecticut area code are presumed made in the state (§42-288(c))."),
    QuietHoursRule(
        "US-LA", date(2005, 1, 18), _MON_SAT_8_20,
        citation="Louisiana Public Service Commission Do Not Call Program General Order "
                 "R-29617 (La. R.S. 45:844.11 et seq.)",
        source="https://www.dropcowboy.com/state-compliance",
        note="8am-8pm Monday to Saturday, no calls on Sundays, per two maintained compliance "
             "tables (Drop Cowboy, updated 2025-11-01; ClickPoint, July 2025); the date is "
             "the General Order's as LUS Fiber cites it. The LPSC's no-call holidays are not "
             "encoded (no verified list); calls during a declared state of emergency are "
             "banned too (R.S. 45:844.31) and are not modelled."),
)

# Zones assumed for a number of a jurisdiction whose own zones libphonenumber does not know:
# every zone of the country, so the hours hold wherever the phone is.
FALLBACK_ZONES = MappingProxyType({
    "US": ("America/New_York", "America/Chicago", "America/Denver", "America/Phoenix",
           "America/Los_Angeles", "America/Anchorage", "Pacific/Honolulu"),
})

DEFAULT_QUIET_HOURS = QuietHours(QUIET_HOURS_RULES, FALLBACK_ZONES)
