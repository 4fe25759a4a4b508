"""Benchmark of the token decision: TokenVerifier.verify against the bare signature check.

What one partner token costs the gateway before any database work: parsing, the header and
claim checks and the signature, for a valid EdDSA and ES256 token, a token whose signature
does not verify, and an oversized one (refused by its length alone). The baseline of the
same run is the signature check alone with ``cryptography`` (the floor no verifier can go
under), so the ratio says what parsing and checks add on this machine today.

Writes tokens.json (``--out``) to bench/results (``$KETENPOORT_BENCH_RESULTS``).
Run: .venv/bin/python bench/bench_tokens.py [--rounds N]
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from goals import results_path  # noqa: E402

from gateway.auth.keys import TrustStore, key_id, public_jwk  # noqa: E402
from gateway.auth.principal import RoleGrant  # noqa: E402
from gateway.auth.service import PartnerDirectory, PartnerEntry, TokenVerifier  # noqa: E402
from gateway.core.errors import GatewayError  # noqa: E402

AUDIENCE = "ketenpoort-bench"
TOKEN_TYPE = "ketenpoort+jwt"
BATCH = 200


def _token(key: Any, algorithm: str, jti: int) -> str:
    now = int(time.time())
    claims = {
        "iss": "p",
        "aud": AUDIENCE,
        "iat": now,
        "nbf": now,
        "exp": now + 240,
        "jti": f"bench-jti-{jti:08d}",
        "role": "casemanager",
        "sub": "cm-1",
    }
    headers = {"kid": key_id(key), "typ": TOKEN_TYPE}
    return jwt.encode(claims, key, algorithm=algorithm, headers=headers)


def _segments(token: str) -> tuple[bytes, bytes]:
    signing_input, signature = token.rsplit(".", 1)
    return signing_input.encode(), base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))


def _per_call_us(call: Callable[[], object], rounds: int) -> float:
    """Best of ``rounds`` batches, time per call in microseconds: the least disturbed batch
    (the host is shared; a median moved by 50% from one run to the next)."""
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        for _ in range(BATCH):
            call()
        samples.append((time.perf_counter() - start) / BATCH * 1e6)
    return min(samples)


def _refused(verifier: TokenVerifier, token: str) -> Callable[[], object]:
    def call() -> object:
        try:
            verifier.verify(token)
        except GatewayError as exc:
            return exc
        raise AssertionError("the token was accepted")

    return call


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=30, help="batches of 200 per measurement")
    parser.add_argument(
        "--out", default="tokens.json", help="file name in $KETENPOORT_BENCH_RESULTS"
    )
    args = parser.parse_args()

    ed = ed25519.Ed25519PrivateKey.generate()
    es = ec.generate_private_key(ec.SECP256R1())
    trust = TrustStore()
    trust.add_jwks("p", {"keys": [public_jwk(ed, key_id(ed)), public_jwk(es, key_id(es))]})
    verifier = TokenVerifier(
        trust=trust,
        partners=PartnerDirectory(
            {"p": PartnerEntry("gemeente", "c", {"casemanager": RoleGrant("casework")})}
        ),
        audience=AUDIENCE,
        max_lifetime=timedelta(seconds=300),
        leeway=timedelta(seconds=30),
    )
    ed_token = _token(ed, "EdDSA", 1)
    es_token = _token(es, "ES256", 2)
    verifier.verify(ed_token)
    verifier.verify(es_token)
    ed_input, ed_signature = _segments(ed_token)
    es_input, es_signature = _segments(es_token)
    es_der = encode_dss_signature(
        int.from_bytes(es_signature[:32], "big"), int.from_bytes(es_signature[32:], "big")
    )
    ed_public, es_public = ed.public_key(), es.public_key()
    head, payload, signature = ed_token.split(".")
    forged = (
        f"{head}.{payload}.{signature[:10]}{'A' if signature[10] != 'A' else 'B'}{signature[11:]}"
    )
    oversized = "a" * (1024 * 1024)

    measurements: dict[str, Callable[[], object]] = {
        "ed25519_signature_only": lambda: ed_public.verify(ed_signature, ed_input),
        "verify_eddsa_token": lambda: verifier.verify(ed_token),
        "es256_signature_only": lambda: es_public.verify(
            es_der, es_input, ec.ECDSA(hashes.SHA256())
        ),
        "verify_es256_token": lambda: verifier.verify(es_token),
        "refuse_forged_eddsa_token": _refused(verifier, forged),
        "refuse_1mb_token": _refused(verifier, oversized),
    }
    # Interleaved batches, so a disturbance of the shared host hits every measurement alike.
    samples: dict[str, list[float]] = {name: [] for name in measurements}
    for _ in range(args.rounds):
        for name, call in measurements.items():
            samples[name].append(_per_call_us(call, 1))
    results: dict[str, Any] = {
        f"{name}_us": round(min(values), 1) for name, values in samples.items()
    }
    results["eddsa_ratio_to_signature"] = round(
        results["verify_eddsa_token_us"] / results["ed25519_signature_only_us"], 2
    )
    results["es256_ratio_to_signature"] = round(
        results["verify_es256_token_us"] / results["es256_signature_only_us"], 2
    )
    results["load_average"] = round(os.getloadavg()[0], 2)
    print(json.dumps(results, indent=2))
    results_path(args.out).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
