"""Words subscribers use whatever the message's language: politeness and fillers, the names of
the messages, laughter and emoji. Each list holds every language's words (a Spanish "gracias"
ends an English "stop please" as well).
"""

from __future__ import annotations

# --- words that may surround a keyword (the short-reply rule) --------------------------------
# Politeness accepted around every intent, opt-in included.
POLITENESS = (
    "please", "pls", "plz", "plze", "plis", "pleas", "pleaze", "thanks", "thank you", "thank u",
    "thanks a lot", "thanks so much", "thank you so much", "thank you very much", "many thanks",
    "thx", "thnx", "thnks", "tks", "ty", "por favor", "porfa", "porfavor", "gracias",
    "muchas gracias", "merci", "merci beaucoup", "svp", "s il vous plait", "sil vous plait",
    "s il te plait", "obrigado", "obrigada", "muito obrigado", "muito obrigada",
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

# --- free-text vocabulary --------------------------------------------------------------------
# Words that may end a request without changing it ("...anymore", "...please", "...now").
PERSISTENCE = ("again", "anymore", "any more", "ever", "ever again", "no more", "period",
               "at all", "any longer", "from now on", "now", "right now", "already", "asap",
               "immediately", "i said", "ok", "okay", "seriously", "bye", "goodbye", "thanks",
               "thank you", "thx", "please", "pls", "plz", "sir", "maam", "man", "dude", "bro",
               "permanently", "forever", "either", "too", "for good", "stop", "unsubscribe",
               "por favor", "gracias", "ya", "merci", "svp", "obrigado", "obrigada", "mais",
               "plus", "mas", "nunca mas", "jamais")
# A statement about someone else or oneself, not a request: "WE have to stop this bill",
# "I need to stop texting", "THEY won't stop texting me" (told to a friend).
SUBJECTS = ("i", "im", "ive", "id", "ill", "we", "weve", "wed", "lets", "theyre", "hes", "shes",
            "people", "everyone", "everybody", "nobody", "je", "nous", "eu", "yo", "nosotros")
# Laughter marks banter: the weak rules (a bare STOP clause, a capitalised leading keyword,
# "make it stop") do not fire on "Stop 😂 you're killing me"; strong ones ask for review.
LAUGHTER = ("lol", "lmao", "lmfao", "rofl", "haha", "hahaha", "hahahaha", "hehe", "jk", "jaja",
            "jajaja", "kkkk", "kkkkk", "mdr", "ptdr", "xd", "lolol")
LAUGHTER_EMOJI = "😂🤣😆😅😹😜😝😛🙃😉😋😄😁😀"
# A message made only of these is a reasonable "stop" (FCC: "any reasonable manner"): review it.
STOP_EMOJI = "🛑⛔🚫✋🤚🙅"

# --- "I said STOP not START": the negations and lead-in words around the contrast ------------
CONTRAST_NEGATIONS = frozenset({"not", "no", "nao", "pas"})
CONTRAST_LEAD_WORDS = frozenset({
    "i", "said", "say", "meant", "mean", "want", "wanted", "to", "asked", "you", "please",
    "just", "it", "is", "was", "dije", "quiero", "je", "veux", "disse", "quero", "yo",
})
