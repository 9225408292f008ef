"""``python -m processor token --actor A --permission P ...``: a new random API token.

Prints the token once (give it to the caller) and the tokens-file entry, which holds only the
token's SHA-256: the service never stores a token it could leak.
"""

from __future__ import annotations

import argparse
import sys

import yaml

from processor.ingress.tokens import Permission, hash_token, new_token


def run(args: argparse.Namespace) -> int:
    try:
        permissions = sorted({Permission(p).value for p in args.permissions})
    except ValueError:
        print(f"unknown permission in {args.permissions!r} "
              f"(known: {', '.join(p.value for p in Permission)})", file=sys.stderr)
        return 2
    token = new_token()
    print(f"token (give it to {args.actor}; it is not stored anywhere): {token}")
    print("tokens file entry:")
    print(yaml.safe_dump({"tokens": [{"actor": args.actor, "sha256": hash_token(token),
                                      "permissions": permissions}]}, sort_keys=False), end="")
    return 0
