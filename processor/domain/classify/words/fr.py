"""French words: keywords, negations, and the French free-text rules."""

from __future__ import annotations

from processor.domain.classify.words.rule import FreeTextRule

OPT_OUT = ("ARRET", "ARRETE", "ARRETER", "ARRETEZ", "DESABONNER", "DESINSCRIRE", "FIN")
OPT_IN: tuple[str, ...] = ()
HELP = ("AIDE",)
NEGATIONS = ("ne", "n", "jamais", "pas")
# Opt-out keywords that are also everyday words (see ``en.EVERYDAY_OPT_OUT``).
EVERYDAY_OPT_OUT = ("FIN",)

_R = FreeTextRule
FREE_TEXT_RULES: tuple[FreeTextRule, ...] = (
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
)
