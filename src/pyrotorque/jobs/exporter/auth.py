"""Basic auth for the metrics endpoint, against a PBKDF2 password hash (never a plain password).

The hash is ``pbkdf2_sha256$ITERATIONS$SALT$HASH`` (salt and hash in unpadded URL-safe base64), which
the standard library both makes and checks: ``pyrotorque --hash-password`` prints one. Deriving the
key is deliberately slow (600,000 iterations by default), so the header of the last successful
request is remembered as a SHA-256 digest and a scraper that sends the same header again costs one
digest, not one derivation. Every comparison is constant-time.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

SCHEME = "pbkdf2_sha256"
#: OWASP's figure for PBKDF2-HMAC-SHA256 (2023); each hash names its own, so older hashes keep working.
DEFAULT_ITERATIONS = 600_000
_MAX_ITERATIONS = 10_000_000  # a typo here would make every check take minutes


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_hash(password: str, *, iterations: int = DEFAULT_ITERATIONS, salt: bytes | None = None) -> str:
    """``pbkdf2_sha256$ITERATIONS$SALT$HASH`` of ``password`` (a fresh random salt unless given)."""
    salt = secrets.token_bytes(16) if salt is None else salt
    derived = hashlib.pbkdf2_hmac("sha256", password.encode("utf-8"), salt, iterations)
    return f"{SCHEME}${iterations}${_b64encode(salt)}${_b64encode(derived)}"


@dataclass(frozen=True)
class PasswordHash:
    """A parsed password hash; ``parse`` says what is wrong with a bad one."""

    iterations: int
    salt: bytes
    derived: bytes

    @classmethod
    def parse(cls, text: str) -> PasswordHash:
        """The hash in ``text``; ValueError naming the expected form otherwise."""
        expected = f"expected {SCHEME}$ITERATIONS$SALT$HASH (make one with pyrotorque --hash-password)"
        parts = text.strip().split("$")
        if len(parts) != 4 or parts[0] != SCHEME:
            raise ValueError(f"not a password hash: {expected}")
        try:
            iterations = int(parts[1])
            salt, derived = _b64decode(parts[2]), _b64decode(parts[3])
        except (ValueError, binascii.Error):
            raise ValueError(f"a damaged password hash: {expected}") from None
        if not 1 <= iterations <= _MAX_ITERATIONS or not salt or len(derived) != 32:
            raise ValueError(f"a damaged password hash: {expected}")
        return cls(iterations, salt, derived)

    def matches(self, password: bytes) -> bool:
        """True when ``password`` derives to this hash (constant-time comparison)."""
        derived = hashlib.pbkdf2_hmac("sha256", password, self.salt, self.iterations)
        return hmac.compare_digest(derived, self.derived)


def check_hash(text: str) -> str | None:
    """The problem with a configured hash, for the option check; None when it is usable (or empty)."""
    if not text:
        return None
    try:
        PasswordHash.parse(text)
    except ValueError as exc:
        return str(exc)
    return None


class BasicAuth:
    """Checks ``Authorization: Basic …`` headers against one user and password hash."""

    def __init__(self, user: str, password_hash: str, realm: str = "pyrotorque") -> None:
        self.user = user.encode("utf-8")
        self.hash = PasswordHash.parse(password_hash)
        self.challenge = f'Basic realm="{realm}", charset="UTF-8"'
        self._lock = threading.Lock()
        self._accepted: bytes | None = None  # SHA-256 of the last header that passed

    def allows(self, header: str | None) -> bool:
        """True when ``header`` carries the right user and password."""
        if not header:
            return False
        digest = hashlib.sha256(header.encode("utf-8", "surrogateescape")).digest()
        with self._lock:
            accepted = self._accepted
        if accepted is not None and hmac.compare_digest(digest, accepted):
            return True
        if not self._credentials_match(header):
            return False
        with self._lock:
            self._accepted = digest
        return True

    def _credentials_match(self, header: str) -> bool:
        scheme, _, encoded = header.strip().partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True)
        except (ValueError, binascii.Error):
            return False
        user, colon, password = decoded.partition(b":")
        # Both checks run whatever the user, so a wrong user name takes as long as a wrong password.
        user_ok = hmac.compare_digest(user, self.user)
        password_ok = self.hash.matches(password)
        return bool(colon) and user_ok and password_ok
