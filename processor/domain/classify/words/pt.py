"""Portuguese words: keywords, negations, and the Portuguese free-text rules."""

from __future__ import annotations

from processor.domain.classify.words.rule import FreeTextRule

OPT_OUT = ("PARAR", "PARE", "SAIR", "CANCELAR", "DESCADASTRAR")
OPT_IN: tuple[str, ...] = ()
HELP = ("AJUDA",)
NEGATIONS = ("nao", "nunca", "jamais", "n")
# Opt-out keywords that are also everyday words (see ``en.EVERYDAY_OPT_OUT``).
EVERYDAY_OPT_OUT = ("PARAR", "PARE", "SAIR", "CANCELAR")
PT_UNSUBSCRIBE_FORMS = ("descadastrar", "descadastre", "descadastra", "descadastro",
                        "descadastrem", "descadastrado", "descadastrada", "descadastramento",
                        "descadastrei")

_R = FreeTextRule
FREE_TEXT_RULES: tuple[FreeTextRule, ...] = (
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
