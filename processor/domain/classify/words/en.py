"""English words: keywords, the words around them, and the free-text vocabulary.

English is always on: carriers and the FCC require it. The free-text rules that use this
vocabulary are in ``en_free_text``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

# --- keywords --------------------------------------------------------------------------------
# The FCC's per-se revocation words (47 CFR 64.1200(a)(10), in force since 2025-04-11) plus
# Twilio's default opt-out, opt-in and help lists.
OPT_OUT = ("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
           "OPTOUT", "OPT OUT", "OPT-OUT")
# Only English has opt-in words: a false opt-in is the worst error, and "SI"/"OUI"/"SIM" are
# everyday words. A gateway that asks for "SI" sets it as its verification keyword.
OPT_IN = ("START", "UNSTOP", "YES")
HELP = ("HELP", "INFO")
DEFAULT_VERIFICATION = "YES"

# CTIA's trio and the FCC's per-se words: a gateway config may never switch these off.
MANDATORY = ("STOP", "START", "HELP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT")

# Opt-out keywords that are also everyday words (each language lists its own). They count when
# they are the whole message (or with politeness), but not as a bare clause inside chat
# ("Cancel. I'll come tomorrow"), not as a leading capitalised word, and they get no typo
# tolerance.
EVERYDAY_OPT_OUT = ("CANCEL", "END", "QUIT")

# --- words that may surround a keyword (the short-reply rule) --------------------------------
# Phone signatures ("YES\n\nSent from my iPhone") say nothing either way: accepted everywhere.
SIGNATURES = (
    "sent from my iphone", "sent from my android", "sent from my samsung", "sent from my phone",
    "sent from my mobile", "sent from my ipad", "sent from my galaxy", "sent from my pixel",
    "sent from my verizon", "sent from my t mobile", "sent from my att",
)
# "Stop it", "STOP THIS", "unsubscribe me": an object makes a clear keyword clearer, but
# "cancel it" or "end me" are ordinary chat, so these only go with keywords not in
# EVERYDAY_OPT_OUT.
KEYWORD_OBJECTS = ("it", "this", "that", "these", "those", "them", "all of it", "all of them",
                   "me", "us", "my number", "this number")
# "HELP me", "more INFO".
HELP_FILLERS = ("me", "more", "i need", "need", "hi", "hello", "hey", "ok", "okay")

# --- free-text vocabulary (expanded into the {PLACEHOLDERS} of the free-text rules) --------
# Words that may sit between a verb and the messages it is about ("stop ALL THE texts").
DETERMINERS = (
    "the", "all", "all of", "any of", "these", "those", "this", "your", "ur", "any", "anymore",
    "with", "so", "many", "more", "further", "future", "my", "such", "stupid", "annoying",
    "fucking", "damn", "freaking", "bloody", "daily", "constant", "marketing", "promotional",
)
# Stop verbs ("STOP texting me", "QUIT sending these").
STOP_VERBS = ("stop", "stp", "quit", "cease", "halt", "discontinue")
# Contact verbs as gerunds: with "me" or the messages as object they make the request.
CONTACT_GERUNDS = (
    "texting", "txting", "texing", "textin", "messaging", "messagin", "msging", "emailing",
    "contacting", "calling", "spamming", "bothering", "harassing", "harrassing", "pestering",
    "hitting me up", "blowing up my phone", "blowing me up",
)
# "stop SENDING": only with me/us, the messages, or nothing after it ("...sending invoices" is
# about something else).
SEND_GERUNDS = ("sending", "sendin")
# "stop RECEIVING these": the subscriber's side of the messages.
RECEIVING_GERUNDS = ("receiving", "getting", "recieving")
# Contact verbs in the imperative: "don't TEXT me".
CONTACT_VERBS = ("text", "txt", "message", "msg", "sms", "contact", "email", "spam", "bother",
                 "harass", "harrass", "pester", "hit me up", "reach out to", "reach")
# Who the messages go to: "stop texting ME", "remove MY NUMBER".
RECIPIENTS = (
    "me", "us", "my phone", "my number", "my cell", "my cell number", "my phone number",
    "my mobile", "my mobile number", "my #", "this number", "this phone", "this cell", "this #",
    "my family", "my wife", "my husband", "our number",
)
# Where a number is kept: "take me off YOUR LIST".
LISTS = ("list", "lists", "database", "system", "registry", "program", "group", "thread",
         "mailing list", "texting list", "text list", "sms list", "contact list", "contacts",
         "distribution list", "marketing list", "call list", "calling list", "subscriber list",
         "subscription list", "email list", "messaging list", "records")
# "this isn't ___ anymore" names the number's previous owner, unless ___ is one of these.
NOT_A_NAME = ("fun", "funny", "working", "right", "fair", "true", "ok", "okay", "good", "great",
              "cool", "helpful", "possible", "necessary", "worth", "enough", "real", "normal",
              "safe", "the", "a", "an", "my", "your", "our", "his", "her", "their", "so", "that",
              "what", "how", "about", "going", "happening", "me", "us", "you", "it", "like", "as",
              "too", "very", "really", "even", "just", "available", "open", "free", "allowed",
              "here", "there", "new", "bad", "nice", "easy", "hard", "gonna", "for", "in", "on",
              "at", "cute", "sustainable", "acceptable", "ideal", "important", "relevant", "mine",
              "yours", "legal", "valid", "active", "used", "needed")
# Words after "don't text me" that make it conditional ("...while I'm driving") -> review.
CONDITIONS = ("while", "when", "after", "before", "until", "till", "til", "during", "at",
              "tonight", "today", "tomorrow", "on", "in", "if", "unless", "yet", "right now",
              "now", "this", "for", "back", "first", "like", "about", "there", "here", "cause",
              "because", "cuz", "so", "without", "with")
# Negations that turn a request around ("DON'T stop"). "no" is an interjection ("No stop
# texting me"), not a negation of the verb.
NEGATIONS = ("dont", "do not", "never", "didnt", "did not", "not", "wont", "will not")
# A negation right after these is a demand, not a negation: "WHY don't you stop", "IF you don't
# stop texting me I'll report you".
NEGATION_OVERRIDES = ("why", "if", "unless")
# A subject (``mixed.SUBJECTS``) makes a statement unless it goes on to ask: "I SAID stop
# texting me", "I WANT to stop receiving these". The second person is always a request: "I
# want YOU to stop texting me".
REQUEST_VERBS = ("said", "say", "told", "tell", "asked", "ask", "asking", "am", "repeat",
                 "mean", "meant", "demand", "beg", "begging", "already", "want", "wanna",
                 "would", "like", "really", "just", "wish", "need")
SECOND_PERSON = ("you", "u", "ya", "yall")
# A request passed on to someone else is not ours to honour: "I told HIM to stop texting me".
THIRD_PARTIES = ("him", "her", "them", "he", "she", "they", "mom", "dad", "mum")
# A question about what happened is not a request: "why DID you stop texting me?" ("were"
# also stands for "we're": "we're going to stop texting" is a statement either way.)
PAST_AUXILIARIES = ("did", "does", "has", "had", "was", "were")
# "stop BY", "stop SIGN": a short chat message starting with STOP that is not worth a review.
STOP_PHRASALS = ("by", "in", "over", "sign", "light", "watch", "motion", "gap", "loss", "and",
                 "n", "at", "for", "being", "playing", "lying", "crying", "laughing", "worrying")

# --- typos -----------------------------------------------------------------------------------
# Spellings no typo model produces ("stahp" is two edits from STOP).
SLANG_SPELLINGS: Mapping[str, str] = MappingProxyType({
    "stahp": "stop", "stawp": "stop", "unsubs": "unsubscribe",
})
# Real words one neighbouring key from a keyword: never read as a typo.
TYPO_REAL_WORDS = ("atop", "sop")
