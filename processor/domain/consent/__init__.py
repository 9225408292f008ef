"""The consent state machine: inbound messages, commands and timer ticks -> transitions.

Pure functions over frozen data. Ordered tables drive everything, and the tests iterate the same
tables: ``inbound_rules.INBOUND_RULES`` (what a classified inbound message does to a
subscription, on the gateway that received it and, with a brand-wide revocation scope, on the
other gateways of its brand), ``command_rules.COMMAND_RULES`` (manual/API/import/global/
number-change commands, and the timer's window expiry) and ``send_rules.SEND_RULES`` (the send
decision). The first rule that matches wins. ``state`` holds a phone's state and the effects
one decision collects; a transition that settles held send requests has them decided by the
send rules again.

Every event carries its evidence: the text that made it (with the phone's exact words when
they were an opt-in or opt-out), or the command.
"""
