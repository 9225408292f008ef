"""Spanish words: keywords, negations, and the Spanish free-text rules."""

from __future__ import annotations

from processor.domain.classify.words.rule import FreeTextRule

OPT_OUT = ("PARAR", "PARA", "ALTO", "BASTA", "BAJA", "CANCELAR", "DETENER", "SALIR", "NO MAS",
           "FIN", "DESUSCRIBIR")
OPT_IN: tuple[str, ...] = ()
HELP = ("AYUDA", "INFORMACION")
NEGATIONS = ("no", "nunca", "jamas", "ni")
# Opt-out keywords that are also everyday words (see ``en.EVERYDAY_OPT_OUT``).
EVERYDAY_OPT_OUT = ("PARA", "PARAR", "ALTO", "BASTA", "BAJA", "SALIR", "FIN", "CANCELAR", "DETENER",
                    "NO MAS")

_R = FreeTextRule
FREE_TEXT_RULES: tuple[FreeTextRule, ...] = (
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
)
