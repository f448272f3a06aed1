"""SIP final response codes (RFC 3261 and later RFCs), read as call outcomes.

Codes listed in ``EXPLICIT`` carry a decision each. Every other code from 200 to 699
takes its class's fallback (``CLASS_FALLBACK``); ``TABLE`` is both expanded once at
import, so a lookup is one dict access. Provisional 1xx responses are not outcomes
and, like codes above 699, normalize to ``unknown``.

Where a SIP code mirrors a Q.850 cause, RFC 3398 (ISUP/SIP interworking) keeps the
two tables in agreement: 408 ~ cause 18, 480 ~ 20/31, 410 ~ 22, 484 ~ 28, 503 ~ 41.
"""

from __future__ import annotations

from typing import Final

from dialstate.outcomes._outcome import Outcome

EXPLICIT: Final[dict[int, Outcome]] = {
    200: Outcome.COMPLETED,  # OK
    # --- 3xx: our proxy did not follow a redirect, the contact was not reached ------
    300: Outcome.FAILED,  # Multiple Choices
    # RFC 3398 sends Q.850 22 "number changed" as 301 when the new number is known.
    301: Outcome.UNALLOCATED,  # Moved Permanently
    302: Outcome.FAILED,  # Moved Temporarily: call forwarding we did not follow
    305: Outcome.FAILED,  # Use Proxy
    380: Outcome.FAILED,  # Alternative Service
    # --- 4xx: request failures; mostly about our request, a few about the number ----
    400: Outcome.FAILED,  # Bad Request
    401: Outcome.FAILED,  # Unauthorized: our trunk credentials
    402: Outcome.FAILED,  # Payment Required: our balance (the cloud dialer's "Failed")
    # Carriers answer 403 when this account may not call this destination (country,
    # premium range, network); the same route never succeeds. Callees decline with
    # 603 or 486, not 403.
    403: Outcome.NOT_ALLOWED,  # Forbidden
    404: Outcome.UNALLOCATED,  # Not Found
    405: Outcome.FAILED,  # Method Not Allowed
    406: Outcome.FAILED,  # Not Acceptable
    407: Outcome.FAILED,  # Proxy Authentication Required: our credentials
    408: Outcome.NO_ANSWER,  # Request Timeout: the callee was not found in time (Q.850 18)
    410: Outcome.UNALLOCATED,  # Gone: the number was given up (Q.850 22)
    413: Outcome.FAILED,  # Request Entity Too Large
    414: Outcome.FAILED,  # Request-URI Too Long
    415: Outcome.FAILED,  # Unsupported Media Type
    416: Outcome.FAILED,  # Unsupported URI Scheme
    417: Outcome.FAILED,  # Unknown Resource-Priority
    420: Outcome.FAILED,  # Bad Extension
    421: Outcome.FAILED,  # Extension Required
    422: Outcome.FAILED,  # Session Interval Too Small
    423: Outcome.FAILED,  # Interval Too Brief
    428: Outcome.FAILED,  # Use Identity Header: our STIR/SHAKEN signing
    # The callee's side refuses calls without caller ID, like Q.850 24.
    433: Outcome.REJECTED,  # Anonymity Disallowed
    436: Outcome.FAILED,  # Bad Identity-Info
    437: Outcome.FAILED,  # Unsupported Certificate
    438: Outcome.FAILED,  # Invalid Identity Header
    # Not registered / DND / handset off: the contact is absent for now (Q.850 20).
    480: Outcome.NO_ANSWER,  # Temporarily Unavailable
    481: Outcome.FAILED,  # Call/Transaction Does Not Exist
    482: Outcome.FAILED,  # Loop Detected
    483: Outcome.FAILED,  # Too Many Hops
    484: Outcome.UNALLOCATED,  # Address Incomplete: the number is not a whole number
    # The address matched several users: a routing/dial-plan matter this rare is not
    # worth ending the contact over, unlike 484.
    485: Outcome.FAILED,  # Ambiguous
    486: Outcome.BUSY,  # Busy Here
    487: Outcome.CANCELED,  # Request Terminated: we cancelled the INVITE
    488: Outcome.FAILED,  # Not Acceptable Here: codec/SDP mismatch, our configuration
    489: Outcome.FAILED,  # Bad Event
    491: Outcome.FAILED,  # Request Pending
    493: Outcome.FAILED,  # Undecipherable
    494: Outcome.FAILED,  # Security Agreement Required
    # --- 5xx: server failures; temporary ones are congestion (RFC 3398) -------------
    500: Outcome.CONGESTION,  # Server Internal Error (Q.850 41, temporary failure)
    501: Outcome.FAILED,  # Not Implemented: permanent for our request
    502: Outcome.CONGESTION,  # Bad Gateway (Q.850 38)
    503: Outcome.CONGESTION,  # Service Unavailable: overload, CPS or channel limits
    504: Outcome.CONGESTION,  # Server Time-out (Q.850 102)
    505: Outcome.FAILED,  # Version Not Supported: permanent
    513: Outcome.FAILED,  # Message Too Large: our INVITE, permanent
    555: Outcome.FAILED,  # Push Notification Service Not Supported
    # A media precondition (QoS reservation) could not be met: in practice a
    # capability mismatch, and congestion would redial a permanent one forever.
    580: Outcome.FAILED,  # Precondition Failure
    # --- 6xx: global failures, said by or for the callee ----------------------------
    600: Outcome.BUSY,  # Busy Everywhere
    603: Outcome.REJECTED,  # Decline
    604: Outcome.UNALLOCATED,  # Does Not Exist Anywhere
    606: Outcome.FAILED,  # Not Acceptable: the session offer, our configuration
    # RFC 8197: the callee marked the call unwanted and says further calls will be
    # refused too. Redialling hourly burns caller-ID reputation and invites
    # complaints, so the number is treated like a do-not-call entry.
    607: Outcome.BLOCKED,  # Unwanted
    # RFC 8688: an intermediary (call analytics) refused it, not the callee; worth a
    # later attempt, and counted so it cannot loop.
    608: Outcome.REJECTED,  # Rejected
}

# Codes not in EXPLICIT fall back by class. An unlisted 3xx or 4xx is a request
# problem (counted, retried); an unlisted 5xx is the server's (temporary) trouble;
# an unlisted 6xx is a global refusal.
CLASS_FALLBACK: Final[dict[int, Outcome]] = {
    2: Outcome.COMPLETED,
    3: Outcome.FAILED,
    4: Outcome.FAILED,
    5: Outcome.CONGESTION,
    6: Outcome.REJECTED,
}

TABLE: Final[dict[int, Outcome]] = {
    code: EXPLICIT.get(code, CLASS_FALLBACK[code // 100]) for code in range(200, 700)
}
