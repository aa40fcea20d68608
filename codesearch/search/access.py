"""Who may do what: searching is open to everyone; making the service fetch code (indexing) needs a
signed-in user with the `repositories.request_indexing` permission, or an API token of such a user.
Indexing requests and search by code are rate-limited per user and, separately, per address."""
from __future__ import annotations

import ipaddress

from django.conf import settings
from django.utils import timezone
from django_ratelimit.core import is_ratelimited
from ninja.security import HttpBearer, SessionAuth

from codesearch.repositories.models import ApiToken

INDEXING_PERMISSION = "repositories.request_indexing"
HOW_TO_GET_ACCESS = ("Requesting indexing needs an access token (sent as 'Authorization: Bearer <token>'; the "
                     "browser extension takes it in its options) or a signed-in account with permission. "
                     "Ask this server's staff for one; searching needs neither.")
_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class RateLimited(Exception):
    def __init__(self, what: str, retry_after: int):
        super().__init__(f"too many {what} from you; try again in {retry_after} s")
        self.retry_after = retry_after


def client_address(group: str, request) -> str:
    """The client's address (from the proxy's header when one is configured), IPv6 by its /64, which
    one client usually holds whole; requests that carry none share one count."""
    raw = request.META.get(settings.RATELIMIT_IP_META_KEY or "REMOTE_ADDR", "")
    try:
        address = ipaddress.ip_address(raw.split(",")[-1].strip())
    except ValueError:
        return "unknown"
    return str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)


def check_rate(request, group: str, rate: str, what: str) -> None:
    """Count this request against `rate` (e.g. "20/h") for its address and its user; RateLimited if over."""
    limited = is_ratelimited(request, group=group, key=client_address, rate=rate, increment=True)
    if request.user.is_authenticated:
        limited = is_ratelimited(request, group=group, key="user", rate=rate, increment=True) or limited
    if limited:
        period = rate.split("/")[1]  # "h", or "10m"
        raise RateLimited(what, int(period[:-1] or 1) * _PERIODS[period[-1]])


def may_request_indexing(user) -> bool:
    return bool(user and user.is_active and user.has_perm(INDEXING_PERMISSION))


class BearerToken(HttpBearer):
    """`Authorization: Bearer <token>`: the token's user. A header no other site can make a browser
    send, so such requests need no CSRF check."""

    def authenticate(self, request, token: str):
        found = (ApiToken.objects.select_related("user")
                 .filter(key_hash=ApiToken.hash(token), revoked=False, user__is_active=True).first())
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used=timezone.now())
        request.user = found.user
        return found.user


class SignedInUser(SessionAuth):
    """The session's user, CSRF-checked: a page on another site can make the browser send the cookie.
    Anonymous requests skip the check, so that they get a 401 that says how to get access."""

    def __call__(self, request):
        if not request.user.is_authenticated:
            return None
        return super().__call__(request)


api_auth = [BearerToken(), SignedInUser()]
