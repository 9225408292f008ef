"""English free-text rules: plain-words revocations ("please stop texting me", "take me off
your list"), complaints and questions to review. Order matters inside a clause: the first rule
that matches decides for it (``languages.FREE_TEXT_RULES``: English first).
"""

from __future__ import annotations

from processor.domain.classify.words.en import (
    CONTACT_GERUNDS,
    CONTACT_VERBS,
    LISTS,
    RECEIVING_GERUNDS,
    RECIPIENTS,
    SEND_GERUNDS,
    STOP_VERBS,
)
from processor.domain.classify.words.mixed import MESSAGING_NOUNS, VAGUE_MESSAGING_NOUNS
from processor.domain.classify.words.rule import FreeTextRule
from processor.domain.classify.words.rule import first_words as _first_words
from processor.domain.classify.words.rule import last_words as _last_words

_MSG_WORDS = _last_words(MESSAGING_NOUNS)
_NAMED_MSG_WORDS = tuple(word for word in _MSG_WORDS if word not in VAGUE_MESSAGING_NOUNS)
_NOT_WORDS = ("dont", "not", "never")
_DEMONSTRATIVES = ("this", "these", "those", "it", "that", "them")
_R = FreeTextRule
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
)
