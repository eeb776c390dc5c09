"""One exchange with a broker in the configured protocol, so that a mistake is named within
seconds instead of a client hanging or retrying for half a minute.

TLS against a plaintext listener hung (the ClientHello read as a huge request), plaintext
against a TLS one retried, wrong SASL credentials ended after 30 s in "Unable to
bootstrap". So the first broker that accepts a connection gets: a TLS handshake (SSL,
SASL_SSL), an ApiVersions request (plaintext), and for SASL the mechanism handshake and
one authentication (PLAIN, or SCRAM by RFC 5802). Only an answer that says what is wrong
raises; an exchange this code does not understand is left to the client to judge.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import secrets
import socket
import ssl
import struct

from churnwatch.errors import UserError
from churnwatch.settings import Settings

TIMEOUT = 5.0
"""Seconds for the handshake and each answer: a broker in the right protocol answers in
milliseconds, and the README promises the message within 10 s of starting (at 10 s
here it took 11.6-11.8 s, issue 38)."""
_CORRELATION = 0x6377  # "cw"
_SCRAM_HASHES = {"SCRAM-SHA-256": "sha256", "SCRAM-SHA-512": "sha512"}
_UNSUPPORTED_SASL_MECHANISM, _SASL_AUTHENTICATION_FAILED = 33, 58


def require_protocol(sock: socket.socket, host: str, address: str, settings: Settings,
                     context: ssl.SSLContext | None) -> None:
    """``context``: the TLS context for SSL and SASL_SSL, None for plaintext."""
    k = settings.kafka
    sock.settimeout(TIMEOUT)
    if context is not None:
        try:
            sock = context.wrap_socket(sock, server_hostname=host)
        except (OSError, ssl.SSLError) as exc:
            raise UserError(
                f"TLS handshake with {address} failed ({_why(exc)}): "
                f"CHURNWATCH_KAFKA__SECURITY_PROTOCOL={k.security_protocol}, but the broker "
                "may not speak TLS on that port; check the protocol, the port and "
                "CHURNWATCH_KAFKA__SSL_CAFILE") from None
    with sock:  # the TLS socket too, which the caller's plain one no longer closes
        if context is None:
            try:
                _request(sock, 18, 0, b"")  # ApiVersions v0
            except (OSError, ValueError) as exc:
                raise UserError(
                    f"{address} did not answer a Kafka request in plaintext ({_why(exc)}): "
                    f"CHURNWATCH_KAFKA__SECURITY_PROTOCOL={k.security_protocol}; if the "
                    "broker expects TLS there, set it to SSL or SASL_SSL") from None
        if k.security_protocol.startswith("SASL") and k.sasl_mechanism:
            with contextlib.suppress(OSError, ValueError, struct.error):
                # an answer that does not say what is wrong: the client will judge
                _authenticate(sock, address, settings)


def _authenticate(sock: socket.socket, address: str, settings: Settings) -> None:
    k = settings.kafka
    mechanism = k.sasl_mechanism or ""
    error, offered = _read_handshake(_request(sock, 17, 1, _string(mechanism)))
    if error == _UNSUPPORTED_SASL_MECHANISM or mechanism not in offered:
        raise UserError(f"{address} does not offer SASL mechanism {mechanism} (it offers "
                        f"{', '.join(offered) or 'none'}): check "
                        "CHURNWATCH_KAFKA__SASL_MECHANISM")
    user = k.sasl_username or ""
    password = k.sasl_password.get_secret_value() if k.sasl_password else ""
    if mechanism == "PLAIN":
        _authenticated(sock, address, f"\0{user}\0{password}".encode(), user)
        return
    nonce = base64.b64encode(secrets.token_bytes(18)).decode()
    first_bare = scram_first_bare(user, nonce)
    server_first = _authenticated(sock, address, f"n,,{first_bare}".encode(), user)
    final, _ = scram_final(password, first_bare, server_first.decode(), nonce,
                           _SCRAM_HASHES[mechanism])
    _authenticated(sock, address, final.encode(), user)


def _authenticated(sock: socket.socket, address: str, auth: bytes, user: str) -> bytes:
    """One SaslAuthenticate v0 round; the server's bytes, or a UserError if it refused."""
    answer = _request(sock, 36, 0, struct.pack(">i", len(auth)) + auth)
    error = struct.unpack(">h", answer[:2])[0]
    if error == _SASL_AUTHENTICATION_FAILED:
        raise UserError(f"{address} refused the credentials of SASL user {user!r}: check "
                        "CHURNWATCH_KAFKA__SASL_USERNAME and CHURNWATCH_KAFKA__SASL_PASSWORD")
    if error:
        raise ValueError(f"SaslAuthenticate error {error}")
    n = struct.unpack(">h", answer[2:4])[0]
    at = 4 + max(n, 0)
    size = struct.unpack(">i", answer[at:at + 4])[0]
    server = answer[at + 4:at + 4 + max(size, 0)]
    if server.startswith(b"e="):  # RFC 5802's server-error, in place of an error code
        raise UserError(f"{address} refused the credentials of SASL user {user!r} "
                        f"({server[2:].decode(errors='replace')}): check "
                        "CHURNWATCH_KAFKA__SASL_USERNAME and CHURNWATCH_KAFKA__SASL_PASSWORD")
    return server


def scram_first_bare(user: str, nonce: str) -> str:
    name = user.replace("=", "=3D").replace(",", "=2C")
    return f"n={name},r={nonce}"


def scram_final(password: str, first_bare: str, server_first: str, nonce: str,
                digest: str) -> tuple[str, str]:
    """RFC 5802: the client-final message and the server signature it should answer."""
    fields = dict(part.split("=", 1) for part in server_first.split(","))
    if not fields["r"].startswith(nonce):
        raise ValueError("the server's nonce does not extend ours")
    salted = hashlib.pbkdf2_hmac(digest, password.encode(), base64.b64decode(fields["s"]),
                                 int(fields["i"]))
    client_key = hmac.digest(salted, b"Client Key", digest)
    without_proof = f"c=biws,r={fields['r']}"
    message = f"{first_bare},{server_first},{without_proof}".encode()
    signature = hmac.digest(hashlib.new(digest, client_key).digest(), message, digest)
    proof = bytes(a ^ b for a, b in zip(client_key, signature, strict=True))
    server_key = hmac.digest(salted, b"Server Key", digest)
    expected = base64.b64encode(hmac.digest(server_key, message, digest)).decode()
    return f"{without_proof},p={base64.b64encode(proof).decode()}", expected


def _request(sock: socket.socket, api: int, version: int, body: bytes) -> bytes:
    """Send one request (header v1, client id "cw"); the response body after its header."""
    message = struct.pack(">hhih", api, version, _CORRELATION, 2) + b"cw" + body
    sock.sendall(struct.pack(">i", len(message)) + message)
    size, correlation = struct.unpack(">ii", _read(sock, 8))
    if correlation != _CORRELATION or not 0 <= size - 4 <= 1 << 20:
        raise ValueError("an answer that is not Kafka's")
    return _read(sock, size - 4)


def _read(sock: socket.socket, n: int) -> bytes:
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise ValueError("closed")
        data += chunk
    return data


def _string(text: str) -> bytes:
    raw = text.encode()
    return struct.pack(">h", len(raw)) + raw


def _read_handshake(body: bytes) -> tuple[int, list[str]]:
    error, count = struct.unpack(">hi", body[:6])
    offered, at = [], 6
    for _ in range(max(count, 0)):
        n = struct.unpack(">h", body[at:at + 2])[0]
        offered.append(body[at + 2:at + 2 + n].decode())
        at += 2 + n
    return error, offered


def _why(exc: BaseException) -> str:
    return (getattr(exc, "reason", None) or getattr(exc, "strerror", None)
            or str(exc) or type(exc).__name__)
