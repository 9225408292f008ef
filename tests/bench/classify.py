"""Keyword classifier throughput: classifications per second on a realistic inbound mix.

About 85% ordinary chat of varied length (a tenth of it holding words the rules look at:
"stop by", "cancel my order", "yes I'll be there"), 10% keywords and their variants, 5%
plain-words revocations. Messages are drawn with a fixed seed and repeat the way short replies
do on a real stream. Nothing caches whole messages; the classifier's small per-token memo of
typo checks warms up here as it does in production.
"""

from __future__ import annotations

import random
import time

from processor.domain.classify.classifier import classify
from processor.domain.classify.keyword_sets import DEFAULT_KEYWORDS, KeywordSet

_CHAT: tuple[str, ...] = (
    "ok", "Thanks!", "see you soon", "lol", "On my way", "k", "Sure", "love you", "np",
    "Sounds good, talk later", "Running late, sorry", "What time is the game tomorrow?",
    "Can you pick up milk on the way home?", "I'll be there in 10 minutes",
    "Happy birthday!! Hope you have an amazing day 🎉", "Did you get my email about the meeting?",
    "We should grab dinner this weekend, are you free Saturday night?",
    "Got it, thanks for letting me know", "Is the store open until 9?", "Who is this?",
    "Don't forget the keys", "Can you call me when you get a chance? It's about the lease",
    "The package arrived this morning, thank you so much!", "Where are you parked?",
    "I'm at the front desk", "Can we move it to Thursday?", "Perfect 👍", "haha yes exactly",
    "My flight lands at 6:40, can you grab me?", "Is the appointment still at 2pm tomorrow?",
    "Just checking in, how's your mom doing?", "I sent the payment, let me know if it went through",
    "Ok great. See you then", "How much is the deposit?", "Can I bring my dog?",
    "The wifi password is on the fridge", "Traffic is terrible today 😩", "Good morning!",
    "Thank you for the reminder", "What's the address again?", "I'll let you know tonight",
)
# Ordinary chat that holds words the rules read: the expensive kind of "none".
_TRICKY_CHAT: tuple[str, ...] = (
    "I can't stop laughing at that video", "Where's the bus stop again?",
    "Yes I'll be there at 10", "The meeting will end at 5", "I need to cancel my order",
    "I'll text you when I'm outside", "Can you stop by the office later?",
    "help me move this weekend", "Start time is 7pm", "No more cake for me, I'm full",
    "Did you get my message?",
)
_KEYWORDS: tuple[str, ...] = (
    "STOP", "Stop", "stop.", "STOP!!!", "Yes", "YES", "HELP", "Unsubscribe", "stop please",
    "START", "Cancel", "Stop 🛑", "ＳＴＯＰ", "STOP\u200b", "Please stop", "Yes please", "Info",
    "Stop, wrong number", "PARAR", "Arrêt",
)
_FREE_TEXT: tuple[str, ...] = (
    "Please stop texting me", "take me off your list", "remove me", "no more texts",
    "wrong number", "Stop sending me these messages", "don't text me anymore",
    "I want to unsubscribe", "No me envíes más mensajes", "how do I stop these?",
)


def sample_messages(n: int, seed: int = 2025) -> list[str]:
    """``n`` inbound bodies in the benchmark's mix, reproducibly."""
    rng = random.Random(seed)
    messages = []
    for _ in range(n):
        draw = rng.random()
        if draw < 0.85:
            pool = _TRICKY_CHAT if rng.random() < 0.1 else _CHAT
        else:
            pool = _KEYWORDS if draw < 0.95 else _FREE_TEXT
        messages.append(rng.choice(pool))
    return messages


def bench_classify(n: int, keywords: KeywordSet = DEFAULT_KEYWORDS) -> float:
    """Classifications per second over ``n`` messages of the realistic mix, in one process."""
    messages = sample_messages(n)
    start = time.perf_counter()
    for body in messages:
        classify(body, keywords)
    return n / (time.perf_counter() - start)
