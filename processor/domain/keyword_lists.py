"""Every word list the keyword classifier uses, in one place: tests import these, never re-spell
them.

Keywords are written the way a subscriber would type them; ``KeywordSet.build`` normalises them
exactly like message bodies (case, accents, full-width letters, punctuation). Phrases below are
written in the classifier's token form: lower case, accents folded, apostrophes dropped
("don't" -> "dont"; French elisions split: "m'envoyer" -> "m envoyer"), single spaces.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

LANGUAGES = ("en", "es", "fr", "pt")

# --- keywords --------------------------------------------------------------------------------
# English: the FCC's per-se revocation words (47 CFR 64.1200(a)(10), in force since 2025-04-11)
# plus Twilio's default opt-out, opt-in and help lists. English is always on: carriers and the
# FCC require it, so `languages` only switches the other sets.
OPT_OUT: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("STOP", "STOPALL", "STOP ALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE",
           "OPTOUT", "OPT OUT", "OPT-OUT"),
    "es": ("PARAR", "PARA", "ALTO", "BASTA", "BAJA", "CANCELAR", "DETENER", "SALIR", "NO MAS",
           "FIN", "DESUSCRIBIR"),
    "fr": ("ARRET", "ARRETE", "ARRETER", "ARRETEZ", "DESABONNER", "DESINSCRIRE", "FIN"),
    "pt": ("PARAR", "PARE", "SAIR", "CANCELAR", "DESCADASTRAR"),
})
# No language adds opt-in words: a false opt-in is the worst error, and "SI"/"OUI"/"SIM" are
# everyday words. A gateway that asks for "SI" sets it as its verification keyword.
OPT_IN: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("START", "UNSTOP", "YES"),
    "es": (),
    "fr": (),
    "pt": (),
})
HELP: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("HELP", "INFO"),
    "es": ("AYUDA", "INFORMACION"),
    "fr": ("AIDE",),
    "pt": ("AJUDA",),
})
DEFAULT_VERIFICATION = "YES"

# CTIA's trio and the FCC's per-se words: a gateway config may never switch these off.
MANDATORY = ("STOP", "START", "HELP", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "REVOKE", "OPT OUT")

# Opt-out keywords that are also everyday words. They count when they are the whole message (or
# with politeness), but not as a bare clause inside chat ("Cancel. I'll come tomorrow"), not as a
# leading capitalised word, and they get no typo tolerance.
EVERYDAY_OPT_OUT = ("CANCEL", "END", "QUIT", "PARA", "PARAR", "PARE", "ALTO", "BASTA", "BAJA",
                    "SALIR", "SAIR", "FIN", "CANCELAR", "DETENER", "NO MAS")

# --- words that may surround a keyword (the short-reply rule) --------------------------------
# Politeness accepted around every intent, opt-in included.
POLITENESS = (
    "please", "pls", "plz", "plze", "plis", "pleas", "pleaze", "thanks", "thank you", "thank u",
    "thanks a lot", "thanks so much", "thank you so much", "thank you very much", "many thanks",
    "thx", "thnx", "thnks", "tks", "ty", "por favor", "porfa", "porfavor", "gracias",
    "muchas gracias", "merci", "merci beaucoup", "svp", "s il vous plait", "sil vous plait",
    "s il te plait", "obrigado", "obrigada", "muito obrigado", "muito obrigada",
)
# Phone signatures ("YES\n\nSent from my iPhone") say nothing either way: accepted everywhere.
SIGNATURES = (
    "sent from my iphone", "sent from my android", "sent from my samsung", "sent from my phone",
    "sent from my mobile", "sent from my ipad", "sent from my galaxy", "sent from my pixel",
    "sent from my verizon", "sent from my t mobile", "sent from my att",
)
# Accepted around opt-out keywords only: a subscriber who says STOP may be curt, annoyed or
# confused ("Stop, wrong number", "I said STOP"), and none of it changes what they asked.
OPT_OUT_FILLERS = (
    "ok", "okay", "k", "kk", "now", "right now", "immediately", "asap", "already", "just",
    "again", "i said", "i said to", "i already said", "already said", "said", "i told you",
    "for the last time", "seriously", "sir", "maam", "madam", "bye", "goodbye", "bye bye", "hi",
    "hello", "hey", "dear", "sorry", "wrong number", "wrong person", "who is this", "whos this",
    "who is that", "who dis", "who are you", "not interested", "no", "nope", "no thanks",
    "no thank you", "permanently", "forever", "everything", "kindly", "stp", "ya", "ahora",
    "ahora mismo", "maintenant", "tout de suite", "agora", "ja", "omg", "ugh", "wtf",
    "jeez", "geez", "god",
)
# "Stop it", "STOP THIS", "unsubscribe me": an object makes a clear keyword clearer, but
# "cancel it" or "end me" are ordinary chat, so these only go with keywords not in
# EVERYDAY_OPT_OUT.
KEYWORD_OBJECTS = ("it", "this", "that", "these", "those", "them", "all of it", "all of them",
                   "me", "us", "my number", "this number")
# "STOP texts", "unsubscribe alerts", "no mas mensajes": naming the messages confirms the intent.
MESSAGING_NOUNS = (
    "text", "texts", "txt", "txts", "text message", "text messages", "message", "messages", "msg",
    "msgs", "sms", "smss", "notification", "notifications", "alert", "alerts", "reminder",
    "reminders", "promo", "promos", "promotion", "promotions", "ads", "advert", "adverts",
    "offer", "offers", "deals", "spam", "marketing", "update", "updates", "newsletter",
    "newsletters", "email", "emails", "calls", "robocall", "robocalls", "subscription",
    "mensajes", "mensaje", "msjs", "msj", "textos", "notificaciones", "promociones", "publicidad",
    "correos", "llamadas", "mensagens", "mensagem", "notificacoes", "promocoes", "pubs",
    "publicites", "suscripcion", "suscripciones", "assinatura", "subscricao", "abonnement",
    "crap", "junk", "shit", "garbage", "stuff", "nonsense", "bs", "bullshit", "communication",
    "communications", "solicitations", "solicitation", "surveys", "survey",
)
# Messaging nouns that are also everyday words or swearing: they name the messages after a
# verb ("stop this crap", "done with this shit") but not after a bare "no": "No shit, but I
# wasn't surprised" is chat, "no texts" is a request.
VAGUE_MESSAGING_NOUNS = ("crap", "junk", "shit", "garbage", "stuff", "nonsense", "bs", "bullshit")
# "HELP me", "more INFO".
HELP_FILLERS = ("me", "more", "i need", "need", "hi", "hello", "hey", "ok", "okay")

# --- free-text vocabulary (expanded into the {PLACEHOLDERS} of FREE_TEXT_RULES) ---------------
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
# Words that may end a request without changing it ("...anymore", "...please", "...now").
PERSISTENCE = ("again", "anymore", "any more", "ever", "ever again", "no more", "period",
               "at all", "any longer", "from now on", "now", "right now", "already", "asap",
               "immediately", "i said", "ok", "okay", "seriously", "bye", "goodbye", "thanks",
               "thank you", "thx", "please", "pls", "plz", "sir", "maam", "man", "dude", "bro",
               "permanently", "forever", "either", "too", "for good", "stop", "unsubscribe",
               "por favor", "gracias", "ya", "merci", "svp", "obrigado", "obrigada", "mais",
               "plus", "mas", "nunca mas", "jamais")

# Negations that turn a request around ("DON'T stop", "NO dejes de escribirme"), per language.
# English "no" is an interjection ("No stop texting me"), not a negation of the verb.
NEGATIONS: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "en": ("dont", "do not", "never", "didnt", "did not", "not", "wont", "will not"),
    "es": ("no", "nunca", "jamas", "ni"),
    "fr": ("ne", "n", "jamais", "pas"),
    "pt": ("nao", "nunca", "jamais", "n"),
})
# How many tokens before a verb a negation still applies to ("don't EVER stop").
NEGATION_WINDOW = 3
# A negation right after these is a demand, not a negation: "WHY don't you stop", "IF you don't
# stop texting me I'll report you".
NEGATION_OVERRIDES = ("why", "if", "unless")
# A statement about someone else or oneself, not a request: "WE have to stop this bill",
# "I need to stop texting", "THEY won't stop texting me" (told to a friend).
SUBJECTS = ("i", "im", "ive", "id", "ill", "we", "weve", "wed", "lets", "theyre", "hes", "shes",
            "people", "everyone", "everybody", "nobody", "je", "nous", "eu", "yo", "nosotros")
# ...unless the subject goes on to ask: "I SAID stop texting me", "I WANT to stop receiving
# these". The second person is always a request: "I want YOU to stop texting me".
REQUEST_VERBS = ("said", "say", "told", "tell", "asked", "ask", "asking", "am", "repeat",
                 "mean", "meant", "demand", "beg", "begging", "already", "want", "wanna",
                 "would", "like", "really", "just", "wish", "need")
SECOND_PERSON = ("you", "u", "ya", "yall")
# A request passed on to someone else is not ours to honour: "I told HIM to stop texting me".
THIRD_PARTIES = ("him", "her", "them", "he", "she", "they", "mom", "dad", "mum")
# A question about what happened is not a request: "why DID you stop texting me?" ("were"
# also stands for "we're": "we're going to stop texting" is a statement either way.)
PAST_AUXILIARIES = ("did", "does", "has", "had", "was", "were")
# Laughter marks banter: the weak rules (a bare STOP clause, a capitalised leading keyword,
# "make it stop") do not fire on "Stop 😂 you're killing me"; strong ones ask for review.
LAUGHTER = ("lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "hahahaha", "hehe", "jk", "jaja",
            "jajaja", "kkkk", "kkkkk", "mdr", "ptdr", "xd", "lolol")
LAUGHTER_EMOJI = "😂🤣😆😅😹😜😝😛🙃😉😋😄😁😀"
# A message made only of these is a reasonable "stop" (FCC: "any reasonable manner"): review it.
STOP_EMOJI = "🛑⛔🚫✋🤚🙅"
# "stop BY", "stop SIGN": a short chat message starting with STOP that is not worth a review.
STOP_PHRASALS = ("by", "in", "over", "sign", "light", "watch", "motion", "gap", "loss", "and",
                 "n", "at", "for", "being", "playing", "lying", "crying", "laughing", "worrying")
# Short messages of at most this many tokens holding a bare keyword are flagged for review.
REVIEW_MAX_TOKENS = 4


@dataclass(frozen=True, slots=True)
class FreeTextRule:
    """One plain-words revocation pattern, matched against a clause in token form.

    ``needs``: groups of words; the rule is only tried on a clause holding a word of every group
    (so chat without them costs a few set lookups, and the classifier's gate is exactly "some
    keyword, or some rule's needs, are present"). The rarest group goes first: it is indexed.
    ``pattern`` may use {PLACEHOLDERS} (see keywords._FRAGMENTS). ``guards`` block a match:
    "negation" (a negation of the rule's language just before it), "subject" (a statement by
    I/we/they, not a request), "declarative" (a pronoun right before "don't ...": "you don't
    text me anymore" is a complaint to a friend), "banter" (laughter in the message).
    ``outcome`` "opt_out" revokes consent; "review" flags the message (intent none).
    """

    name: str
    language: str
    needs: tuple[tuple[str, ...], ...]
    pattern: str
    confidence: float
    outcome: str = "opt_out"
    review: bool = False
    guards: tuple[str, ...] = ()


def _first_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(phrase.split()[0] for phrase in phrases))


def _last_words(phrases: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(phrase.split()[-1] for phrase in phrases))


_MSG_WORDS = _last_words(MESSAGING_NOUNS)
_NAMED_MSG_WORDS = tuple(word for word in _MSG_WORDS if word not in VAGUE_MESSAGING_NOUNS)
_NOT_WORDS = ("dont", "not", "never")
_DEMONSTRATIVES = ("this", "these", "those", "it", "that", "them")
PT_UNSUBSCRIBE_FORMS = ("descadastrar", "descadastre", "descadastra", "descadastro",
                        "descadastrem", "descadastrado", "descadastrada", "descadastramento",
                        "descadastrei")
_R = FreeTextRule
# Order matters inside a clause: the first rule that matches decides for it.
FREE_TEXT_RULES: tuple[FreeTextRule, ...] = (
    # --- English: stop + what to stop -----------------------------------------------------
    # "stop the texts", "quit sending these", "end all messages": verb + the messages.
    _R("stop_messages", "en",
       (_MSG_WORDS, (*STOP_VERBS, "end", "cancel")),
       r"\b(?:{STOPV}|end|cancel) {DET}{MSG}\b", 0.9,
       guards=("negation", "subject")),
    # "stop texting me", "stop contacting this number", "quit calling": verb + contact + me.
    _R("stop_texting_me", "en",
       (_first_words(CONTACT_GERUNDS), STOP_VERBS),
       r"\b{STOPV} {DET}(?:{CGER} (?:and|or|n) )?{CGER}(?: {RCPT}\b| {DET}{MSG}\b|{END})", 0.9,
       guards=("negation", "subject")),
    # "stop sending me these", "stop sending": sending needs me, the messages or nothing after.
    _R("stop_sending", "en",
       (SEND_GERUNDS, STOP_VERBS),
       r"\b{STOPV} {SGER}(?: {RCPT})?(?: {DET}{MSG}\b| {DEM}{END}|{END})", 0.9,
       guards=("negation", "subject")),
    # "I want to stop receiving these", "stop getting these texts".
    _R("stop_receiving", "en",
       (RECEIVING_GERUNDS, STOP_VERBS),
       r"\b{STOPV} {RGER}(?: {DET}{MSG}\b| {DEM}{END}|{END})", 0.9,
       guards=("negation", "subject")),
    # "what do I text to stop?" (before the rules it would otherwise fall under)
    _R("what_to_text", "en",
       (("stop", "unsubscribe", "unsub", "opt", "off", "end", "cancel"), ("what",)),
       r"\bwhat (?:do|should|can|must) i (?:text|reply|send|type|say|write|respond|do)(?: back)?"
       r" to (?:stop|unsubscribe|unsub|opt out|get off|end this|end these|cancel)\b", 0.8),
    # "can you please stop?", "just stop", "will you stop": a request to stop, nothing else.
    # (A bare "stop?" is the keyword rules' business: "Stop? No way" is a question back.)
    _R("request_stop", "en",
       (("stop",), ("can", "could", "would", "will", "please", "pls", "plz", "kindly", "just",
        "now")),
       r"^(?:(?:can|could|would|will) (?:you|u)(?: (?:please|pls|plz|kindly|just))*|(?:please|"
       r"pls|plz|kindly|just|now)(?: (?:please|pls|plz|kindly|just|now))*) stop{END}", 0.85,
       guards=("banter",)),
    # "Please stop I don't know who you are": STOP opening an unpunctuated run-on, where the
    # next word starts a new sentence ("stop by", "stop you're so funny" do not); reviewed.
    _R("stop_run_on", "en",
       (("stop",),
        ("i", "im", "ive", "id", "this", "who", "whos", "wrong", "not", "never", "we", "its",
         "thats", "dont", "no", "sorry", "idk", "do", "please")),
       r"^(?:(?:please|pls|plz|just|ok|okay|hi|hey|omg|ugh) )*stop(?: (?:it|this|now|texting me|"
       r"messaging me|contacting me|please|pls))? (?:i|im|ive|id|this|who|whos|wrong|not|never|"
       r"we|its|thats|dont|no|sorry|idk|do not|please) ", 0.75, review=True,
       guards=("banter",)),
    # "I asked you to stop", "I told you to stop": the subscriber restating a revocation.
    _R("asked_you_to_stop", "en",
       (("stop",), ("asked", "told", "said", "begged", "ask", "tell", "telling", "asking")),
       r"\b(?:asked|told|said to|begged|ask|tell|am telling|am asking|im telling|im asking) "
       r"(?:you|u|yall|you guys) (?:to )?(?:please )?stop\b", 0.85),
    # "I need you to stop", "you need to stop": a demand, but also common banter -> review.
    _R("you_need_to_stop", "en",
       (("stop",), ("need", "want", "have", "got", "gotta", "must")),
       r"^(?:i (?:need|want) (?:you|u) to|(?:you|u) (?:need|have|got) to|(?:you|u) gotta|"
       r"(?:you|u) must) (?:please |just )?stop{END}", 0.75, review=True, guards=("banter",)),
    # "these texts need to stop", "I want these messages to stop".
    _R("messages_must_stop", "en",
       (_MSG_WORDS, ("stop", "end", "cease")),
       r"\b{DET}{MSG} (?:need to|needs to|have to|has to|must|gotta|should|to) (?:stop|end|cease)"
       r"\b", 0.85, guards=("negation",)),
    # "please stop this", "stop it": a demonstrative is vague -> opt-out, reviewed.
    _R("stop_this", "en",
       (STOP_VERBS, _DEMONSTRATIVES),
       r"\b{STOPV} {DEM}{END}", 0.7, review=True,
       guards=("negation", "subject", "banter")),
    # "make it stop", "make these texts stop".
    _R("make_it_stop", "en",
       (("stop",), ("make",)),
       r"\bmake (?:{DEM}|{DET}{MSG}) stop\b", 0.75, review=True,
       guards=("negation", "subject", "banter")),
    # --- English: don't contact me --------------------------------------------------------
    # "don't text me while I'm driving": a condition, not a revocation -> review.
    _R("dont_text_me_conditional", "en",
       (_first_words(CONTACT_VERBS), _NOT_WORDS),
       r"\b{NOT} (?:ever )?{CVERB} {RCPT} {COND}\b", 0.5, outcome="review",
       guards=("declarative",)),
    # "don't text me anymore", "do not contact me", "never message this number again".
    _R("dont_text_me", "en",
       (_first_words(CONTACT_VERBS), _NOT_WORDS),
       r"\b{NOT} (?:ever )?(?:again )?{CVERB}(?: {RCPT})?(?: {DET}{MSG})?{END}", 0.9,
       guards=("declarative",)),
    # "don't send me any more messages".
    _R("dont_send_me", "en",
       (("send",), _NOT_WORDS),
       r"\b{NOT} (?:ever )?send (?:{RCPT} )?{DET}{MSG}\b", 0.9,
       guards=("declarative",)),
    # "do not call", "DNC", "don't call me again": calls alone are chat ("don't call me, I'll
    # call you"), so plain "don't call me" needs a word that makes it final.
    _R("do_not_call", "en",
       (("call",), _NOT_WORDS),
       r"\bdo not call\b|\b(?:dont|never|do not) call {RCPT} (?:again|anymore|any more|ever)\b",
       0.8, guards=("declarative",)),
    _R("dnc", "en",
       (("dnc",),),
       r"\bdnc\b", 0.8),
    # --- English: remove me ---------------------------------------------------------------
    # "remove me", "unsubscribe my number", "delete this number".
    _R("remove_me", "en",
       (("remove", "delete", "erase", "unsubscribe", "unsub", "unenroll", "unregister",
        "deregister", "unlist"), _first_words(RECIPIENTS)),
       r"\b(?:remove|delete|erase|unsubscribe|unsub|unenroll|unregister|deregister|unlist) {RCPT}"
       r"(?:{END}| (?:from|off|out of) {DET}(?:{LIST}|{MSG}|{DEM}{END}|here|everything|all)\b)",
       0.9, guards=("negation", "subject")),
    # "take me off", "take my number off your list" (not "take me off speaker").
    _R("take_me_off", "en",
       (("off",), ("take",)),
       r"\btake {RCPT} off(?:{END}| {DET}{LIST}\b)", 0.9,
       guards=("negation", "subject")),
    # "remove me from your list", "get me off this list", "drop my number from the database".
    _R("off_the_list", "en",
       (_last_words(LISTS), ("off", "from", "out")),
       r"\b(?:remove|delete|take|get|drop|cross|scratch|kick|strike|pull|erase|unsubscribe|unsub)"
       r"(?: {RCPT})? (?:off|from|out of) {DET}{LIST}\b", 0.9, guards=("negation", "subject")),
    # "lose my number", "forget this number".
    _R("lose_my_number", "en",
       (("number", "digits", "contact"),
        ("lose", "forget", "delete", "erase", "remove", "trash", "burn", "cancel")),
       r"\b(?:lose|forget|delete|erase|remove|trash|burn|cancel) (?:my|this|the|our) (?:number|"
       r"phone number|cell number|digits|contact)\b", 0.85, guards=("negation", "subject")),
    # "REMOVE", "delete me please": removal verbs alone, in reply to a text.
    _R("remove_alone", "en",
       (("remove", "delete", "unsub", "unenroll", "unregister", "deregister", "block"),),
       r"^(?:(?:please|pls|plz|kindly|just) )*(?:remove|delete|unsub|unenroll|unregister|"
       r"deregister|block)(?: {RCPT})?{END}", 0.85),
    # "opt me out".
    _R("opt_me_out", "en",
       (("opt",), ("out",)),
       r"\bopt {RCPT} out\b", 0.9, guards=("negation",)),
    # --- English: consent words -----------------------------------------------------------
    # "I revoke my consent", "cancel my subscription", "withdraw permission".
    _R("revoke_consent", "en",
       (("consent", "permission", "authorization", "authorisation", "subscription", "optin",
        "opt"), ("revoke", "revoking", "revoked", "withdraw", "withdrawing", "rescind", "cancel",
        "cancelling", "canceling", "end", "terminate")),
       r"\b(?:revoke|revoking|revoked|withdraw|withdrawing|rescind|cancel|cancelling|canceling"
       r"|end|terminate) (?:(?:my|all|any|your|the|this) )*(?:consent|permission|authorization|"
       r"authorisation|subscription|opt in|optin)\b", 0.9, guards=("negation",)),
    # "I revoke", "I withdraw": said alone, in reply to a text.
    _R("i_revoke", "en",
       (("revoke", "withdraw"),),
       r"^(?:i |we )?(?:hereby )?(?:revoke|withdraw)(?: (?:my |all )?(?:consent|permission))?{END}",
       0.85),
    # "I do not consent", "I never gave you permission".
    _R("no_consent", "en",
       (("consent", "consented", "permission"), ("not", "dont", "longer", "never", "didnt")),
       r"\b(?:do not|dont|no longer|never|didnt|did not) (?:consent|consented|give (?:you )?"
       r"(?:my )?(?:consent|permission)|gave (?:you )?(?:my )?(?:consent|permission))\b", 0.85),
    # "I never signed up for this": a claim of no consent; reasonable revocation, reviewed.
    _R("never_signed_up", "en",
       (("sign", "signed", "subscribe", "subscribed", "opt", "opted", "optin", "agree", "agreed",
        "ask", "asked"), ("never", "didnt", "not")),
       r"\b(?:never|didnt|did not) (?:sign up|signed up|subscribe|subscribed|opt in|opted in|"
       r"optin|agree to|agreed to|ask for (?:this|these|that|them|it)|asked for (?:this|these|"
       r"that|them|it))\b", 0.7, review=True),
    # "unsubscribe", "I opted out already", "how do I opt out?" anywhere -- but not "I
    # unsubscribed from Netflix": a "from/of" naming something else is not about us.
    _R("unsubscribe_word", "en",
       (("unsubscribe", "unsubscribed", "unsubscribing", "unsub", "unsubbed", "unsuscribe",
        "optout", "opt", "opted", "opting"),),
       r"\b(?:unsubscribe|unsubscribed|unsubscribing|unsub|unsubbed|unsuscribe|optout|opt out|"
       r"opted out|opting out)\b(?! (?:from|of) (?!{DET}(?:(?:{RGER}|{CGER}|{SGER}) )?(?:{MSG}|"
       r"{LIST}|{DEM}{END}|you|here|everything|all{END})\b))", 0.85, guards=("negation",)),
    # "I'd like to be removed", "how do I get off this list".
    _R("want_out", "en",
       (("removed", "taken", "unsubscribed", "opted", "out", *_last_words(LISTS)), ("want", "wanna",
        "wish", "like", "need", "trying", "try", "tried", "how", "way", "let", "help")),
       r"\b(?:want|wanna|wish|would like|id like|need|trying|try|tried|how do i|how can i|how to|"
       r"way to|let me|help me) (?:to )?(?:be removed|be taken off|be unsubscribed|be opted out|"
       r"(?:get|be taken) (?:off|out of) {DET}{LIST}\b)|\b(?:want|wanna) out(?: of {DET}{LIST}\b|"
       r"{END})", 0.85, guards=("negation",)),
    # "I don't want these texts", "I no longer wish to receive messages".
    _R("dont_want_messages", "en",
       (_MSG_WORDS, ("want", "wanna", "wish", "need", "like"), ("dont", "not", "longer", "never",
        "didnt")),
       r"\b(?:dont|do not|no longer|never|didnt|did not) (?:want|wanna|wish|need|like)(?: to "
       r"(?:receive|get|be getting|be receiving|see|keep getting))? {DET}{MSG}\b", 0.85),
    # "I don't want to be contacted".
    _R("dont_want_contact", "en",
       (("contacted", "texted", "messaged", "called", "emailed", "bothered", "spammed",
        *_last_words(LISTS)), ("want", "wanna", "wish")),
       r"\b(?:dont|do not|no longer) (?:want|wanna|wish) to be (?:contacted|texted|messaged|"
       r"called|emailed|bothered|spammed|on {DET}{LIST})\b", 0.85),
    # --- English: questions (the FCC: a reasonable request revokes; a question is one) -------
    # "how do I stop these?", "how can I unsubscribe", "how to stop getting texts".
    _R("how_to_stop", "en",
       (("stop", "unsubscribe", "unsub", "opt"), ("how",)),
       r"\bhow (?:do|can|could|would|should|to|do you|does one|the hell do|tf do|the heck do)"
       r"(?: i| we| u| you| one)? (?:stop|unsubscribe|unsub|opt out)(?: {RGER})?(?: {DET}{MSG}\b|"
       r" {DEM}{END}|{END})", 0.8),
    # "how do I turn off these alerts" (not "how do I turn off the oven").
    _R("how_to_turn_off", "en",
       (("end", "cancel", "off", "block", "rid", "disable", "mute"), ("how",)),
       r"\bhow (?:do|can|could|would|should|to)(?: i| we| u| you)? (?:end|cancel|turn off|block|"
       r"get rid of|disable|mute)(?: {RGER})? (?:{DET}{MSG}\b|{DEM}{END})", 0.8),
    # "how do I get these to stop".
    _R("how_to_make_stop", "en",
       (("stop",), ("how",)),
       r"\bhow (?:do|can|could) (?:i|we|u) (?:get|make) (?:{DEM}|{DET}{MSG}) (?:to )?stop\b", 0.8),
    # "how do I cancel?": cancel or end what? -> review.
    _R("how_to_cancel", "en",
       (("cancel", "end", "quit"), ("how",)),
       r"\bhow (?:do|can|could|would|should|to)(?: i| we| u)? (?:cancel|end|quit){END}", 0.5,
       outcome="review"),
    # "Yes I want to sign up", "sign me up": consent in other words. Never an opt-in (only the
    # keyword is one), but an operator should see it.
    _R("consent_words", "en",
       (("sign", "subscribe", "join", "interested", "agree", "consent", "opt", "count"),
        ("yes", "yeah", "yep", "sure", "ok", "okay", "absolutely", "definitely")),
       r"^(?:yes|yeah|yep|sure|ok|okay|absolutely|definitely)\b.*\b(?:sign me up|sign up|"
       r"subscribe|join|interested|agree|consent|opt in|count me in)\b", 0.5, outcome="review"),
    _R("sign_me_up", "en",
       (("sign", "count", "opt", "subscribe"), ("me",)),
       r"^(?:please )?(?:sign me up|count me in|opt me in|subscribe me)\b", 0.5, outcome="review"),
    # "I want to cancel": cancel what? (an appointment, an order...) -> review.
    _R("want_to_cancel", "en",
       (("cancel", "end", "quit"), ("want", "wanna", "need", "like")),
       r"\b(?:want|wanna|need|would like|id like) to (?:cancel|end|quit){END}", 0.5,
       outcome="review"),
    # --- English: no more / enough --------------------------------------------------------
    # "no more texts", "no more texting me".
    _R("no_more_messages", "en",
       (("more",), ("no",)),
       r"\bno more (?:{CGER} |{SGER} |{RGER} )?{DET}{MSG}\b|\bno more {CGER}(?: {RCPT})?{END}",
       0.85),
    # "No more" alone: in reply to a text it means no more texts; reviewed.
    _R("no_more", "en",
       (("more",), ("no",)),
       r"^(?:(?:please|pls|plz|ok|okay|seriously|just) )*no more{END}", 0.75,
       review=True),
    # "Enough!": the English of Spanish BASTA; reviewed.
    _R("enough", "en",
       (("enough",),),
       r"^(?:(?:ok|okay|seriously|thats|that is|its|it is) )*enough(?: already| is enough)?{END}",
       0.7, review=True, guards=("banter",)),
    # "no texts please", "no messages anymore" (not "no shit": a vague noun is chat here).
    _R("no_messages", "en",
       (_NAMED_MSG_WORDS, ("no",)),
       r"^no {NAMEDMSG}(?:{END}| (?:anymore|any more|again|ever)\b)", 0.8),
    # "I'm done with these messages".
    _R("done_with_messages", "en",
       (_MSG_WORDS, ("done",)),
       r"\b(?:im|i am|were|we are) (?:so |totally |completely |just )?done with {DET}{MSG}\b", 0.8),
    # "enough with the texts".
    _R("enough_messages", "en",
       (("enough",), _MSG_WORDS),
       r"\benough (?:with |of )?{DET}{MSG}\b", 0.8),
    # --- English: other ways of saying it -------------------------------------------------
    # "not interested": declines the program; reasonable revocation, reviewed.
    _R("not_interested", "en",
       (("interested", "intrested", "intersted"), ("not", "longer")),
       r"^(?:(?:im|i am|sorry|no|nope|honestly|really|just|totally|absolutely|simply|thanks|"
       r"thank you|but|and|ok|okay|well|so) )*(?:not|no longer) (?:interested|intrested|intersted)"
       r"(?: (?:in "
       r"(?:{DEM}|your \w+|{DET}{MSG})|anymore|any more|at all))*{END}", 0.7, review=True),
    # "wrong number", "you have the wrong number": the sender never consented (reassigned
    # numbers are exactly what the TCPA punishes).
    _R("wrong_number", "en",
       (("wrong",),),
       r"^(?:(?:sorry|hi|hey|hello|um|uh|i think|pretty sure|think|yo|oh|but|no|umm) )*(?:(?:you "
       r"have|you got|youve got|youve|u have|u got|this is|thats|that is|its|it is|you texted|"
       r"you have texted|youre texting|you are texting|u texted|you messaged|you have got|got) )?"
       r"(?:the |a )?wrong (?:number|num|no|person|phone|guy|girl|contact|cell)\b", 0.8),
    # "this isn't Carlos anymore", "this number belongs to someone else now": a reassigned
    # number; its new owner never consented.
    _R("reassigned_number", "en",
       (("anymore", "else", "owner", "longer", "number", "phone"),),
       r"\b(?:this|that) (?:is not|isnt|aint|is no longer) (?!{NOTNAME}\b)\w+ (?:anymore|any more|"
       r"no more)\b|\b(?:this|that|it) (?:is not|isnt|is no longer) \w+s? (?:number|phone|cell)\b|"
       r"\b(?:this|the|my) (?:number|phone) (?:belongs to|is) (?:someone|somebody) else\b|"
       r"\b(?:new|different) (?:owner|person) (?:of|for|has) this (?:number|phone)\b|\bno "
       r"longer (?:his|her|their|\w+s) (?:number|phone)\b", 0.8),
    # "I'm not the person you're looking for".
    _R("not_the_person", "en",
       (("looking", "trying", "think", "want"), ("not",), ("person", "who", "one")),
       r"\b(?:im|i am|this is) not (?:the (?:person|one)|who) (?:you|u)(?:re| are| r)? (?:looking "
       r"for|trying to reach|trying to text|think|want)\b", 0.8),
    _R("not_the_right_number", "en",
       (("number", "person"), ("right", "correct")),
       r"\bnot the (?:right|correct) (?:number|person)\b", 0.8),
    # "no thanks": declines something, maybe the program -> review.
    _R("no_thanks", "en",
       (("no", "nah", "nope", "non", "nao"),
        ("thanks", "thank", "thx", "ty", "gracias", "merci", "obrigado", "obrigada")),
       r"^(?:no|nah|nope|non|nao) (?:thanks|thank you|thank u|thx|ty|gracias|merci|obrigad[oa])"
       r"(?: (?:anyway|though|tho))?{END}", 0.5, outcome="review"),
    # "stop or I'll sue", "STOP before I report you": a threat makes it a demand.
    _R("stop_or_else", "en",
       (("stop",), ("or", "otherwise", "before", "else")),
       r"^(?:(?:please|pls|just|i said) )*stop(?: (?:it|this|now|texting me|messaging me|"
       r"contacting me))? (?:or|otherwise|before|or else)\b", 0.85, guards=("banter",)),
    # "leave me alone", "go away": hostile but clear in reply to a text; reviewed.
    _R("leave_me_alone", "en",
       (("alone", "away", "off", "lost", "stfu", "fuck", "fu", "f", "screw"),),
       r"^(?:(?:please|pls|plz|just|now|omg|ugh|seriously|god|and|so|can you|could you|will you|"
       r"oh) )*(?:leave me alone|leave us alone|go away|fuck off|f off|fk off|fck off|piss off|"
       r"get lost|screw off|buzz off|bugger off|back off|stfu|fuck you|f you|fu|screw you){END}",
       0.6, review=True,
       guards=("negation", "banter")),
    # "this is spam", "SPAM": calling it spam is asking it to stop; reviewed.
    _R("spam_complaint", "en",
       (("spam", "harassment", "harrassment", "illegal", "scam"),),
       r"^(?:(?:this is|thats|that is|its|it is|this|pure|total|more|stupid|fucking) )*(?:spam|"
       r"harassment|harrassment|illegal|scam){END}", 0.7, review=True),
    # "I'm reporting you", "blocking this number".
    _R("report_you", "en",
       (("report", "reporting", "reported", "block", "blocking", "blocked"), ("you", "u",
        "number")),
       r"\b(?:report|reporting|reported|block|blocking|blocked) (?:you|u|this number|your number)"
       r"(?: (?:to|as|for) (?:spam|the fcc|fcc|the ftc|ftc|the attorney general|the police))?"
       r"{END}", 0.7, review=True, guards=("negation", "banter")),
    # "why do you keep texting me?", "how did you get my number?": complaints -> review.
    _R("why_texting_me", "en",
       (("why",), ("texting", "messaging", "contacting", "getting", "receiving", "sending",
        "text", "message", "contact")),
       r"\bwhy (?:do you keep|are you|do i keep|am i|r u|are u|do u keep|you keep|does this "
       r"number keep|is this number|do you|does this|is this) (?:still )?(?:texting|messaging|"
       r"contacting|getting|receiving|sending|text|message|contact)\b", 0.5, outcome="review"),
    _R("how_got_my_number", "en",
       (("number", "info", "cell"), ("get", "gave", "have")),
       r"\b(?:how did you get|who gave you|where did you get|how do you have) (?:my|this) "
       r"(?:number|#|phone number|info|cell)\b", 0.5, outcome="review"),
    # --- Spanish --------------------------------------------------------------------------
    # "deja de enviarme mensajes", "dejen de escribirme", "para de molestarme".
    _R("es_deja_de", "es",
       (("deja", "dejen", "deje", "dejes", "dejar", "para", "paren", "pare", "parar", "basta",
        "terminen", "termina", "cesen", "cese", "detenga", "detengan", "suficiente"), ("de",)),
       r"\b(?:deja|dejen|deje|dejes|dejar|para|paren|pare|parar|basta|terminen|termina|cesen|cese|"
       r"detenga|detengan)(?: ya)? de (?:enviar|mandar|escribir|contactar|molestar|llamar|textear|"
       r"spamear|acosar)(?:me|nos)?\b|\b(?:basta|suficiente) de {DET}{MSG}\b", 0.9,
       guards=("negation",)),
    # "favor de no enviar mas mensajes".
    _R("es_favor_de_no", "es",
       (("favor", "porfa", "porfavor"), ("no",)),
       r"\b(?:favor de|por favor|porfa|porfavor) no (?:me |nos )?(?:enviar|mandar|escribir|"
       r"contactar|llamar|molestar)(?:me|nos)?\b", 0.9),
    # "no me envies mas mensajes", "no me vuelvan a escribir" (imperative/subjunctive only:
    # "no me escribio" is a complaint about someone else).
    _R("es_no_envies", "es",
       (("vuelvas", "vuelvan", "vuelva", "envies", "envien", "envie", "mandes", "manden", "mande",
        "escribas", "escriban", "escriba", "contactes", "contacten", "contacte", "llames",
        "llamen", "llame", "molestes", "molesten", "moleste", "textees", "texteen", "spamees"),
        ("no",)),
       r"\bno (?:me |nos )?(?:(?:vuelvas|vuelvan|vuelva) a (?:enviar|mandar|escribir|contactar|"
       r"llamar|molestar)(?:me|nos)?|envies|envien|envie|mandes|manden|mande|escribas|escriban|"
       r"escriba|contactes|contacten|contacte|llames|llamen|llame|molestes|molesten|moleste|"
       r"textees|texteen|spamees)\b", 0.9),
    # "ya no quiero mensajes", "no quiero recibir mas mensajes".
    _R("es_no_quiero", "es",
       (("quiero", "deseo", "necesito"), ("no",)),
       r"\b(?:ya )?no (?:quiero|deseo|necesito)(?: (?:recibir|mas|ningun|ninguna|sus|tus|estos|"
       r"estas|los|las|esos|esas|de))* (?:mensajes|mensaje|msjs|msj|textos|sms|notificaciones|"
       r"promociones|publicidad|correos|llamadas|alertas)\b|\bno quiero que me (?:envien|manden|"
       r"escriban|contacten|llamen|sigan|molesten|envies|mandes|escribas)\b", 0.9),
    # "borrame", "sacame de la lista", "dame de baja", "eliminen mi numero".
    _R("es_remove", "es",
       (("borrame", "borrenme", "borreme", "eliminame", "eliminenme", "elimineme", "desuscribeme",
        "desuscribanme", "desuscribirme", "desinscribirme", "desinscribanme", "quitame",
        "quitenme", "quiteme", "sacame", "saquenme", "saqueme", "quitarme", "sacarme", "borrarme",
        "eliminarme", "baja", "numero", "telefono", "celular", "cel", "contacto"),),
       r"\b(?:borrame|borrenme|borreme|eliminame|eliminenme|elimineme|desuscribeme|desuscribanme|"
       r"desuscribirme|desinscribirme|desinscribanme)\b|\b(?:quitame|quitenme|quiteme|sacame|"
       r"saquenme|saqueme|borrame|borrenme|eliminame|eliminenme|quitarme|sacarme|borrarme|"
       r"eliminarme) de (?:la|su|tu|esta|sus|tus|esa|vuestra) (?:lista|base de datos|base|"
       r"sistema|grupo)\b|\b(?:dame|darme|denme|deme|dar|doy|me doy|quiero darme|quisiera darme)"
       r" de baja\b|\b(?:borren|eliminen|quiten|borrar|eliminar|quitar|borra|elimina|quita) (?:mi|"
       r"este) (?:numero|telefono|celular|cel|contacto)\b", 0.9, guards=("negation",)),
    # "no mas mensajes".
    _R("es_no_mas", "es",
       (("mas",), ("no",)),
       r"\bno mas (?:{MSG})\b", 0.9),
    # "no me interesa": declines the program; reviewed.
    _R("es_no_interesa", "es",
       (("interesa", "interesado", "interesada", "interes"), ("no",)),
       r"^(?:(?:gracias|pero|ya|disculpe|perdon) )*no (?:me interesa|estoy interesad[oa]|tengo "
       r"interes)\b", 0.7, review=True),
    # "numero equivocado".
    _R("es_wrong_number", "es",
       (("equivocado", "equivocada", "equivoco", "equivocaste", "equivocaron"),),
       r"\b(?:numero equivocado|equivocad[oa] de numero|se equivoco de numero|te equivocaste de "
       r"numero|se equivocaron de numero)\b", 0.8),
    # --- French ---------------------------------------------------------------------------
    # "arretez de m'envoyer des messages", "cessez de me contacter".
    _R("fr_arretez_de", "fr",
       (("arrete", "arretez", "arreter", "arretes", "cesse", "cessez", "cesser", "stop",
        "stoppez"), ("de", "d")),
       r"\b(?:arrete|arretez|arreter|arretes|cesse|cessez|cesser|stop|stoppez)(?: donc)? (?:de|d)"
       r" (?:me |m |nous )?(?:envoyer|ecrire|contacter|texter|harceler|deranger|appeler|spammer|"
       r"relancer)\b", 0.9, guards=("negation",)),
    # "ne m'envoyez plus de messages", "ne plus me contacter".
    _R("fr_ne_plus", "fr",
       (("plus",), ("ne", "n")),
       r"\b(?:ne|n) (?:me |m |nous )?(?:envoyez|envoie|envoies|ecrivez|ecris|contactez|contacte|"
       r"appelez|appelle|textez|derangez|spammez|harcelez|relancez) plus\b|\bne plus (?:me |m |"
       r"nous )?(?:envoyer|contacter|ecrire|appeler|deranger|relancer)\b", 0.9),
    # "je ne veux plus recevoir de messages".
    _R("fr_veux_plus", "fr",
       (("veux", "souhaite", "desire"), ("je",)),
       r"\bje (?:ne |n )?(?:veux|souhaite|desire) (?:plus|pas|aucun|aucune)(?: (?:recevoir|de|d|"
       r"vos|tes|ces|ce|les|des|aucun|aucune))* (?:messages|message|sms|textos|texto|"
       r"notifications|publicites|publicite|pubs|pub|offres|appels)\b", 0.85),
    # "desabonnez-moi", "me desinscrire", "supprimez mon numero".
    _R("fr_remove", "fr",
       (("moi", "desabonner", "desinscrire", "desabonnement", "numero", "coordonnees",
        "contact"),),
       r"\b(?:desabonnez|desabonne|desinscrivez|desinscris|retirez|supprimez|enlevez|effacez|"
       r"retire|supprime|enleve|efface) moi\b|\bme (?:desabonner|desinscrire)\b|\b(?:retirez|"
       r"supprimez|effacez|enlevez|retirer|supprimer|effacer|enlever) (?:mon numero|mes "
       r"coordonnees|mon contact)\b|\bdesabonnement\b", 0.9, guards=("negation",)),
    # "plus de SMS svp": "no more texts" in speech, but also "more texts" -> reviewed.
    _R("fr_plus_de", "fr",
       (("plus",), ("de",)),
       r"^(?:(?:svp|merci|stp) )*plus de (?:messages|sms|textos|pubs|publicites|notifications)"
       r"{END}", 0.7, review=True),
    # "pas interesse": declines the program; reviewed.
    _R("fr_pas_interesse", "fr",
       (("interesse", "interessee", "interesses", "interessees"),),
       r"\b(?:pas|plus) interesse(?:e|s|es)?\b", 0.7, review=True),
    # "mauvais numero".
    _R("fr_wrong_number", "fr",
       (("numero",), ("mauvais", "trompe", "trompes", "erreur", "faux")),
       r"\b(?:mauvais numero|trompe de numero|trompes de numero|erreur de numero|faux numero)\b",
       0.8),
    # --- Portuguese -----------------------------------------------------------------------
    # "pare de me mandar mensagens", "parem de enviar".
    _R("pt_pare_de", "pt",
       (("pare", "parem", "para", "parar", "deixe", "deixem", "deixa", "chega"), ("de",)),
       r"\b(?:pare|parem|para|parar|deixe|deixem|deixa|chega) de (?:me |nos )?(?:mandar|enviar|"
       r"escrever|contatar|contactar|ligar|incomodar|encher o saco|perturbar)\b|\bchega de "
       r"{MSG}\b", 0.9, guards=("negation",)),
    # "nao me mande mais mensagens", "nao me manda mais".
    _R("pt_nao_mande", "pt",
       (("mande", "mandem", "envie", "enviem", "escreva", "escrevam", "contate", "contatem",
        "contacte", "contactem", "ligue", "liguem", "incomode", "incomodem", "perturbe",
        "perturbem", "manda", "envia", "escreve", "liga"), ("nao", "n")),
       r"\b(?:nao|n) (?:me |nos )?(?:mande|mandem|envie|enviem|escreva|escrevam|contate|contatem|"
       r"contacte|contactem|ligue|liguem|incomode|incomodem|perturbe|perturbem)\b|\bnao (?:me |"
       r"nos )?(?:manda|envia|escreve|liga) mais\b", 0.9),
    # "nao quero mais mensagens".
    _R("pt_nao_quero", "pt",
       (("quero", "desejo", "preciso"), ("nao", "n")),
       r"\b(?:nao|n) (?:quero|desejo|preciso)(?: (?:receber|mais|essas|estas|suas|tuas|as|os|"
       r"nenhuma|nenhum))* (?:mensagens|mensagem|msgs|msg|sms|textos|notificacoes|promocoes|"
       r"propagandas|ligacoes)\b", 0.9),
    # "me tire da lista", "remova meu numero", "descadastre".
    _R("pt_remove", "pt",
       (("lista", "cadastro", "grupo", "base", "numero", "contato", "telefone", "celular",
        *PT_UNSUBSCRIBE_FORMS),),
       r"\b(?:me )?(?:tire|tira|remova|remove|retire|exclua|exclui|tirem|removam|retirem|excluam|"
       r"tirar|remover|excluir)(?: me)? (?:da|dessa|desta|de sua|do|deste|desse) (?:lista|"
       r"cadastro|grupo|base)\b|\b(?:tirar|remover|excluir|apagar|apague|remova|exclua|tire|"
       r"retire|removam|apaguem|excluam) (?:o )?(?:meu|esse|este) (?:numero|contato|telefone|"
       r"celular)\b|\b(?:{PTUNSUB})\b|\bquero sair (?:da|dessa|desta|do) (?:lista|grupo|"
       r"cadastro)\b", 0.9, guards=("negation",)),
    # "Chega!": "enough", like Spanish BASTA; reviewed.
    _R("pt_chega", "pt",
       (("chega",),),
       r"^(?:(?:ja|ta|por favor) )*chega(?: ja)?{END}", 0.7, review=True, guards=("banter",)),
    # "nao tenho interesse": declines the program; reviewed.
    _R("pt_sem_interesse", "pt",
       (("interesse", "interessa", "interessado", "interessada"),),
       r"\b(?:nao tenho interesse|sem interesse|nao me interessa|nao estou interessad[oa])\b",
       0.7, review=True),
    # "numero errado", "e engano".
    _R("pt_wrong_number", "pt",
       (("numero", "engano"),),
       r"\bnumero (?:errado|trocado)\b|^(?:(?:e|foi|deve ser|acho que e) )?engano\b", 0.8),
)

# --- typos and look-alikes -------------------------------------------------------------------
# QWERTY neighbours: a mistyped STOP ("stoo", "srop") is one neighbouring key away; "shop" or
# "step" are not, so real words stay out without a dictionary.
KEYBOARD_NEIGHBOURS: Mapping[str, str] = MappingProxyType({
    "q": "wa", "w": "qeas", "e": "wrsd", "r": "etdf", "t": "ryfg", "y": "tugh", "u": "yihj",
    "i": "uojk", "o": "ipkl", "p": "ol", "a": "qwsz", "s": "awedxz", "d": "serfcx",
    "f": "drtgvc", "g": "ftyhbv", "h": "gyujnb", "j": "huikmn", "k": "jiolm", "l": "kop",
    "z": "asx", "x": "zsdc", "c": "xdfv", "v": "cfgb", "b": "vghn", "n": "bhjm", "m": "njk",
})
# Digits used as letters ("ST0P", "5TOP").
LOOK_ALIKE_DIGITS: Mapping[str, str] = MappingProxyType({
    "0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "8": "b",
})
# Typo tolerance only targets opt-out keywords at least this long (shorter ones collide with
# real words); other languages' keywords need more letters ("SAIR" -> "said" is English).
TYPO_MIN_LENGTH = 4
TYPO_MIN_LENGTH_OTHER_LANGUAGES = 6
# Targets this long tolerate two edits of any kind ("unsubcribe", "unsusbcribe").
TYPO_LONG_LENGTH = 8
# How many distinct tokens the classifier remembers as (not) repairable before starting over.
REPAIR_MEMO_SIZE = 100_000

# "I said STOP not START": an opt-out keyword set against another keyword, in a short message
# whose other words are only a lead-in like these.
CONTRAST_MAX_WORDS = 8
CONTRAST_NEGATIONS = frozenset({"not", "no", "nao", "pas"})
CONTRAST_LEAD_WORDS = frozenset({
    "i", "said", "say", "meant", "mean", "want", "wanted", "to", "asked", "you", "please",
    "just", "it", "is", "was", "dije", "quiero", "je", "veux", "disse", "quero", "yo",
})
# Extra length a repairable token may have beyond two keyword words: stretched letters.
REPAIR_SLACK = 16
# Messages with at most this many words get stretched-letter, look-alike and typo repair.
REPAIR_MAX_WORDS = 6
# "ST OP", "un subscribe": at most this many tokens may join into one opt-out keyword.
SPLIT_KEYWORD_MAX_PARTS = 3
# "STOP JOHN": a leading capitalised keyword counts in messages of at most this many words.
LEADING_MAX_WORDS = 3
# Spellings no typo model produces ("stahp" is two edits from STOP).
SLANG_SPELLINGS: Mapping[str, str] = MappingProxyType({
    "stahp": "stop", "stawp": "stop", "unsubs": "unsubscribe",
})
# Real words one neighbouring key from a keyword: never read as a typo.
TYPO_REAL_WORDS = ("atop", "sop")

# Cyrillic and Greek letters that look like Latin ones ("ЅТОР"), after case folding, and other
# letters NFKC leaves alone (small capitals from "fancy text" generators, ø, ł...).
CONFUSABLES: Mapping[str, str] = MappingProxyType({
    "а": "a", "в": "b", "е": "e", "ё": "e", "і": "i", "ї": "i", "ј": "j", "к": "k", "м": "m",
    "н": "h", "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d",
    "ԛ": "q", "ԝ": "w", "һ": "h", "ӏ": "l", "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h",
    "ι": "i", "κ": "k", "μ": "m", "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
    "ɡ": "g", "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ħ": "h", "ß": "ss", "æ": "ae",
    "œ": "oe", "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ꜰ": "f", "ɢ": "g",
    "ʜ": "h", "ɪ": "i", "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p",
    "ǫ": "q", "ʀ": "r", "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z",
})
