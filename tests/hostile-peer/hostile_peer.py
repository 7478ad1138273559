"""A hostile peer written apart from the node: it signs peer requests with its own code (the
string docs/peer.md spells out, Ed25519 from `cryptography`), pins the node's certificate by
fingerprint, and checks the node accepts an honest request and refuses forged, replayed,
tampered, stale and wrongly addressed ones.

Usage: hostile_peer.py SCENARIO.json. The scenario names the node (URL, certificate
fingerprint, public key), the peer key to sign with (the PKCS#8 file of the paired node, so
the attacker is the trusted peer itself), and the acks to try. Prints one JSON line per
request; exits 1 if any answer is not the expected one.
"""

import base64
import hashlib
import http.client
import json
import os
import socket
import ssl
import sys
import time
import urllib.parse

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat


def load_key(path):
    """The Ed25519 key in a PKCS#8 file (v1 or v2): the seed is the inner 32-byte string."""
    der = open(path, "rb").read()
    at = der.find(b"\x04\x22\x04\x20")
    if at < 0:
        raise SystemExit(f"{path}: no Ed25519 seed found")
    return Ed25519PrivateKey.from_private_bytes(der[at + 4 : at + 36])


def public_hex(key):
    return key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def sign(key, recipient, method, path, body, timestamp, nonce):
    """The headers of a signed request, built from docs/peer.md, not from the node's code."""
    body_hash = hashlib.sha256(body).hexdigest()
    message = "\n".join(
        [
            "twinsync-peer-v2",
            method.upper(),
            path,
            str(timestamp),
            nonce,
            body_hash,
            recipient.lower(),
        ]
    ).encode()
    signature = base64.urlsafe_b64encode(key.sign(message)).rstrip(b"=").decode()
    return {
        "x-twinsync-key": public_hex(key),
        "x-twinsync-timestamp": str(timestamp),
        "x-twinsync-nonce": nonce,
        "x-twinsync-content-sha256": body_hash,
        "x-twinsync-recipient": recipient.lower(),
        "x-twinsync-signature": signature,
    }


def send(node, method, path, headers, body):
    """One request over TLS pinned to the node's certificate fingerprint (no CA)."""
    url = urllib.parse.urlsplit(node["url"])
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    raw = socket.create_connection((url.hostname, url.port), timeout=10)
    tls = context.wrap_socket(raw, server_hostname=url.hostname)
    seen = hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()
    if seen != node["cert_fingerprint"].lower():
        tls.close()
        raise SystemExit(f"pinning failed: the node's certificate is {seen}")
    conn = http.client.HTTPSConnection(url.hostname, url.port, context=context)
    conn.sock = tls
    conn.request(method, path, body=body, headers={**headers, "content-type": "application/json"})
    resp = conn.getresponse()
    text = resp.read().decode(errors="replace")
    conn.close()
    return resp.status, text


def main():
    scenario = json.load(open(sys.argv[1]))
    node = scenario["node"]
    key = load_key(scenario["peer_key_file"])
    if public_hex(key) != scenario["peer_public_key"]:
        raise SystemExit("the key file does not hold the expected peer key")
    stranger = Ed25519PrivateKey.generate()
    now = int(time.time() * 1000)
    failures = []

    def nonce():
        return base64.urlsafe_b64encode(os.urandom(16)).rstrip(b"=").decode()

    def attempt(name, method, path, body, headers, want_status, want_text):
        status, text = send(node, method, path, headers, body)
        ok = status == want_status and want_text in text
        print(json.dumps({"case": name, "status": status, "answer": text, "ok": ok}), flush=True)
        if not ok:
            failures.append(f"{name}: wanted {want_status} with {want_text!r}, got {status} {text}")

    ack_path = "/peer/v1/ack"
    me = node["public_key"]
    honest = json.dumps(scenario["honest_ack"]).encode()
    honest_headers = sign(key, me, "POST", ack_path, honest, now, nonce())
    attempt("honest ack", "POST", ack_path, honest, honest_headers, 200, "applied")
    attempt("replayed", "POST", ack_path, honest, honest_headers, 401, "replayed")
    for i, forged in enumerate(scenario["forged_acks"]):
        body = json.dumps(forged["ack"]).encode()
        headers = sign(key, me, "POST", ack_path, body, now, nonce())
        attempt(f"forged ack {i}", "POST", ack_path, body, headers, 403, forged["reason"])
    elsewhere = sign(key, public_hex(stranger), "POST", ack_path, honest, now, nonce())
    attempt("for another node", "POST", ack_path, honest, elsewhere, 401, "addressed to another node")
    tampered = sign(key, me, "POST", ack_path, honest, now, nonce())
    attempt("tampered body", "POST", ack_path, honest + b" ", tampered, 401, "does not match")
    stale = sign(key, me, "POST", ack_path, honest, now - 10 * 60 * 1000, nonce())
    attempt("stale", "POST", ack_path, honest, stale, 401, "outside the allowed window")
    unknown = sign(stranger, me, "POST", ack_path, honest, now, nonce())
    attempt("unknown key", "POST", ack_path, honest, unknown, 403, "not a peer")
    if failures:
        print("\n".join(failures), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
