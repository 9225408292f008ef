"""One entry point for every input: classify (for inbound), then the consent rules or the
send policy. Pure: the same state, input, configuration and time give the same decision."""

from __future__ import annotations

from processor.domain.classify.classifier import classify
from processor.domain.consent.command_rules import decide_command
from processor.domain.consent.inbound_rules import decide_inbound
from processor.domain.consent.send_rules import decide_send
from processor.domain.consent.state import Decision, PhoneState
from processor.domain.gateways.config import Gateways
from processor.domain.models.inputs import Command, InboundMessage, SendRequest

Input = InboundMessage | SendRequest | Command


def cause_id(item: Input) -> str:
    """The id that makes an input's processing idempotent."""
    if isinstance(item, InboundMessage):
        return item.message_id
    if isinstance(item, SendRequest):
        return item.request_id
    return item.command_id


def decide(state: PhoneState, item: Input, gateways: Gateways, now: int) -> Decision:
    if isinstance(item, InboundMessage):
        gw = gateways.get(item.gateway)
        # With a brand-wide revocation scope, a STOP reaches the brand's other gateways too:
        # the configured ones and any the phone has a subscription on.
        brand = gateways.brand_gateways(gw, (g for g, _ in state.subscriptions))
        return decide_inbound(state, item, classify(item.body, gw.keywords), gw, now, brand)
    if isinstance(item, SendRequest):
        return decide_send(state, item, gateways.get(item.gateway), now)
    return decide_command(state, item, gateways, now)
