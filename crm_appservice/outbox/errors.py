"""Why a send did not happen, in words a manager can act on, and whether to try again.

Each channel turns its own failures into a `SendError`: the worker then applies the one retry
policy without knowing which channel failed.
"""

from __future__ import annotations

import aiosmtplib
from mautrix.errors import IntentError, MatrixConnectionError, MatrixRequestError


class SendError(Exception):
    """A send that did not happen, with the reason a manager reads and whether to retry."""

    def __init__(self, reason: str, retriable: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retriable = retriable


def explain(error: Exception) -> SendError:
    """Turn a homeserver error into a readable reason: 4xx (except 429) is final."""
    if isinstance(error, MatrixRequestError):
        status = getattr(error, "http_status", 0)
        detail = " ".join(p for p in (error.errcode, error.message) if p) or str(error)
        if status == 429:
            return SendError(f"The homeserver is rate-limiting the CRM ({detail})", True)
        if 400 <= status < 500:
            return SendError(f"The homeserver refused the message: {detail}", False)
        return SendError(f"The homeserver failed ({status}: {detail})", True)
    if isinstance(error, IntentError):
        return SendError(f"The CRM's user cannot send in this room: {error}", False)
    if isinstance(error, MatrixConnectionError | OSError | TimeoutError):
        return SendError(f"The homeserver is unreachable ({error or type(error).__name__})", True)
    return SendError(f"Sending failed: {error!r}", True)


def explain_smtp(error: Exception) -> SendError:
    """Turn a mail server error into a readable reason: a 5xx answer is final, 4xx passes."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused) and error.recipients:
        refused = error.recipients[0]
        return SendError(
            f"The mail server refused the recipient: {refused.code} {refused.message}",
            not 500 <= refused.code < 600,
        )
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return SendError(f"The mail server refused the CRM's login: {error.code} "
                         f"{error.message}", False)  # fmt: skip
    if isinstance(error, aiosmtplib.SMTPConnectError | aiosmtplib.SMTPServerDisconnected |
                      aiosmtplib.SMTPTimeoutError | OSError | TimeoutError):  # fmt: skip
        return SendError(f"The mail server is unreachable ({error or type(error).__name__})", True)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        final = 500 <= error.code < 600
        what = "refused" if final else "deferred"
        return SendError(f"The mail server {what} the message: {error.code} {error.message}",
                         not final)  # fmt: skip
    return SendError(f"Sending the e-mail failed: {error!r}", True)
