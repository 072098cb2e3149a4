"""Coinbase Advanced: GET /api/v3/brokerage/key_permissions with ``Authorization: Bearer <JWT>``: an
ES256 JWT signed with the key's EC private key, ``kid``/``sub`` = the key name
(organizations/.../apiKeys/...), ``uri`` = "GET host/path", ``nbf``/``exp`` two minutes apart.
Response shape: Coinbase's "Get API Key Permissions" (docs.cdp.coinbase.com). Refusals are a bare 401."""

from __future__ import annotations

import base64
import json
from typing import Any, ClassVar

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from tests.probe_servers.base import Account, Handler, Received, Reply

PATH = "/api/v3/brokerage/key_permissions"
DOCUMENTED: dict[str, Any] = {
    "can_view": True,
    "can_trade": True,
    "can_transfer": False,
    "portfolio_uuid": "8a3c1e4e-7f0a-4b6e-9b8e-2c1d0f9e7a61",
    "portfolio_type": "DEFAULT",
}
VARIANTS: dict[str, dict[str, Any]] = {
    "documented": DOCUMENTED,
    "withdraw": {**DOCUMENTED, "can_transfer": True},
    "read_only": {**DOCUMENTED, "can_trade": False},
    "missing": {k: v for k, v in DOCUMENTED.items() if not k.startswith("can_")},
}


def _b64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Coinbase(Handler):
    exchange_id = "coinbase"
    routes: ClassVar = (("GET", PATH),)
    variants: ClassVar = tuple(VARIANTS)

    def _claims(self, rx: Received) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes] | None:
        auth = rx.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or auth.count(".") != 2:
            return None
        head, body, sig = auth.removeprefix("Bearer ").split(".")
        return json.loads(_b64url(head)), json.loads(_b64url(body)), f"{head}.{body}".encode(), _b64url(sig)

    def check(self, rx: Received, account: Account) -> str | None:
        parsed = self._claims(rx)
        if parsed is None:
            return "wrong_key"
        header, claims, signed, signature = parsed
        if header.get("kid") != account.key or claims.get("sub") != account.key:
            return "wrong_key"
        if header.get("alg") != "ES256" or len(signature) != 64 or not str(claims.get("uri")).endswith(PATH):
            return "wrong_secret"
        public: ec.EllipticCurvePublicKey = account.extra["public_key"]
        der = encode_dss_signature(
            int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
        )
        try:
            public.verify(der, signed, ec.ECDSA(hashes.SHA256()))
        except InvalidSignature:
            return "wrong_secret"
        return None

    def timestamp_ms(self, rx: Received) -> int | None:
        parsed = self._claims(rx)
        return int(parsed[1]["nbf"]) * 1000 if parsed else None

    def refuse(self, kind: str, account: Account) -> Reply:
        if kind == "rate_limit":
            return Reply(429, {"errors": [{"id": "rate_limit_exceeded", "message": "Too many requests"}]})
        return Reply(401, "Unauthorized\n")

    def answer(self, rx: Received, account: Account) -> Reply:
        return Reply(200, VARIANTS[account.variant])
