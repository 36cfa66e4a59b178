"""People's identities in the console's Cognito user pool: sign in, refresh, sign out, check an access token,
and (for `regelwerk users`) create and remove people.

The console signs in on the server with USER_PASSWORD_AUTH and keeps the tokens in its session item; the
browser only ever holds an opaque session cookie. The admin API checks a person's access token with
``GetUser`` (Cognito answers for revoked and expired tokens; it needs no IAM permission), then reads the
person's role in the shop from the shops table (``store.people``).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

from ..clients import client
from ..errors import InvalidInput, Problem, RegelwerkError, Unauthorized
from ..settings import settings
from ..store.people import ROLES, Binding, bind, binding, shops_of, unbind
from ..store.shops import get_shop


class TooManyAttempts(RegelwerkError):
    status = 429
    code = "too_many_attempts"


@dataclass(frozen=True)
class Tokens:
    access_token: str
    refresh_token: str
    expires_in: int


@dataclass(frozen=True)
class NewPasswordRequired:
    """The person signed in with a one-time password and must choose their own."""

    email: str
    challenge_session: str


def _error_code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def sign_in(email: str, password: str) -> Tokens | NewPasswordRequired:
    """Check an e-mail and password with the user pool; Unauthorized (one message for every reason) if wrong."""
    s = settings()
    try:
        answer = client("cognito-idp").initiate_auth(
            ClientId=s.user_pool_client_id,
            AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": password},
        )
    except Exception as exc:
        if _error_code(exc) in ("NotAuthorizedException", "UserNotFoundException", "UserNotConfirmedException"):
            raise Unauthorized("wrong e-mail or password") from None
        raise
    if answer.get("ChallengeName") == "NEW_PASSWORD_REQUIRED":
        return NewPasswordRequired(email, answer["Session"])
    result = answer["AuthenticationResult"]
    return Tokens(result["AccessToken"], result["RefreshToken"], int(result.get("ExpiresIn", 900)))


def choose_password(challenge: NewPasswordRequired, new_password: str) -> Tokens:
    """Answer the one-time password's challenge with the person's own password."""
    try:
        answer = client("cognito-idp").respond_to_auth_challenge(
            ClientId=settings().user_pool_client_id,
            ChallengeName="NEW_PASSWORD_REQUIRED",
            Session=challenge.challenge_session,
            ChallengeResponses={"USERNAME": challenge.email, "NEW_PASSWORD": new_password},
        )
    except Exception as exc:
        if _error_code(exc) == "InvalidPasswordException":
            raise Unauthorized(
                "the new password is too weak: 12 characters or more, upper and lower case, a digit"
            ) from None
        if _error_code(exc) in ("NotAuthorizedException", "CodeMismatchException", "ExpiredCodeException"):
            raise Unauthorized("the sign-in took too long: sign in again") from None
        raise
    result = answer["AuthenticationResult"]
    return Tokens(result["AccessToken"], result["RefreshToken"], int(result.get("ExpiresIn", 900)))


def refresh(refresh_token: str) -> Tokens:
    """A new access token from the refresh token; Unauthorized when it was revoked (signed out) or expired."""
    try:
        answer = client("cognito-idp").initiate_auth(
            ClientId=settings().user_pool_client_id,
            AuthFlow="REFRESH_TOKEN_AUTH",
            AuthParameters={"REFRESH_TOKEN": refresh_token},
        )
    except Exception as exc:
        if _error_code(exc) in ("NotAuthorizedException", "ResourceNotFoundException", "UserNotFoundException"):
            raise Unauthorized("the session has ended: sign in again") from None
        raise
    result = answer["AuthenticationResult"]
    return Tokens(result["AccessToken"], refresh_token, int(result.get("ExpiresIn", 900)))


def sign_out(email: str) -> None:
    """Revoke every token of the person: their refresh tokens stop working, so no session of theirs comes back.

    AdminUserGlobalSignOut rather than GlobalSignOut: the same effect, and it names the pool, which moto's
    stand-in needs (its GlobalSignOut looks in another region's pools)."""
    try:
        client("cognito-idp").admin_user_global_sign_out(UserPoolId=settings().user_pool_id, Username=email)
    except Exception as exc:
        if _error_code(exc) not in ("NotAuthorizedException", "UserNotFoundException"):
            raise


def _claims(token: str) -> dict[str, Any]:
    """A JWT's payload, unverified: only read after Cognito has accepted the token."""
    try:
        payload = token.split(".")[1]
        return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))
    except (IndexError, ValueError):
        return {}


def looks_like_access_token(token: str) -> bool:
    return token.count(".") == 2 and token.startswith("eyJ")


def person_of(access_token: str) -> tuple[str, str]:
    """(sub, e-mail) of a valid access token of this stack's pool and console client; Unauthorized otherwise."""
    s = settings()
    if not s.user_pool_id:
        raise Unauthorized("invalid API key")
    try:
        user = client("cognito-idp").get_user(AccessToken=access_token)
    except Exception as exc:
        if _error_code(exc) in ("NotAuthorizedException", "UserNotFoundException"):
            raise Unauthorized("the access token is invalid, expired or revoked") from None
        raise
    claims = _claims(access_token)
    if not str(claims.get("iss", "")).endswith("/" + s.user_pool_id) or claims.get("token_use") != "access":
        raise Unauthorized("the access token is not one of this stack's user pool")
    if s.user_pool_client_id and claims.get("client_id") not in (None, s.user_pool_client_id):
        raise Unauthorized("the access token is not one of this stack's user pool")
    attributes = {a["Name"]: a["Value"] for a in user.get("UserAttributes", [])}
    return attributes.get("sub") or str(claims.get("sub", "")), attributes.get("email") or user["Username"]


# ------------------------------------------------------------------ people (the CLI)


def one_time_password() -> str:
    """A temporary password the pool's policy accepts: the person chooses their own at first sign-in."""
    alphabet = string.ascii_letters + string.digits
    while True:
        word = "".join(secrets.choice(alphabet) for _ in range(16))
        if any(c.islower() for c in word) and any(c.isupper() for c in word) and any(c.isdigit() for c in word):
            return word


def create_person(email: str, password: str | None = None) -> tuple[str, str | None]:
    """The person's sub, creating them in the pool if new. With ``password`` it is set as theirs; without,
    a one-time password is made and returned (asked to be changed at first sign-in)."""
    idp, pool = client("cognito-idp"), settings().user_pool_id
    email = email.strip().lower()
    try:
        user = idp.admin_get_user(UserPoolId=pool, Username=email)
        attributes = user.get("UserAttributes", [])
    except Exception as exc:
        if _error_code(exc) != "UserNotFoundException":
            raise
        attributes = idp.admin_create_user(
            UserPoolId=pool,
            Username=email,
            UserAttributes=[{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": "true"}],
            MessageAction="SUPPRESS",  # the CLI prints the one-time password; no e-mail from Cognito
            TemporaryPassword=one_time_password(),
        )["User"]["Attributes"]
    sub = next(a["Value"] for a in attributes if a["Name"] == "sub")
    temporary = None
    if password:
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=password, Permanent=True)
    else:
        temporary = one_time_password()
        idp.admin_set_user_password(UserPoolId=pool, Username=email, Password=temporary, Permanent=False)
    return sub, temporary


def sub_of(email: str) -> str | None:
    try:
        user = client("cognito-idp").admin_get_user(UserPoolId=settings().user_pool_id, Username=email.strip().lower())
    except Exception as exc:
        if _error_code(exc) == "UserNotFoundException":
            return None
        raise
    return next((a["Value"] for a in user.get("UserAttributes", []) if a["Name"] == "sub"), None)


def add_person(shop_id: str, email: str, role: str, password: str | None = None) -> tuple[Binding, str | None]:
    """Give a person (made in the pool if new) a role in a shop; returns the binding and the one-time password
    when none was given."""
    if role not in ROLES:
        raise InvalidInput("invalid role", [Problem("$.role", f"one of {', '.join(ROLES)}")])
    get_shop(shop_id)  # an unknown shop is an error, not a binding to nothing
    sub, temporary = create_person(email, password)
    return bind(shop_id, sub, email.strip().lower(), role), temporary


def remove_person(shop_id: str, email: str) -> bool:
    """Take a person's role in a shop away (at once: every request reads it). Someone left with no shop is
    signed out everywhere and deleted from the pool. False if they had no role there."""
    sub = sub_of(email)
    if sub is None or binding(shop_id, sub) is None:
        return False
    unbind(shop_id, sub)
    if not shops_of(sub):
        idp, pool = client("cognito-idp"), settings().user_pool_id
        idp.admin_user_global_sign_out(UserPoolId=pool, Username=email.strip().lower())
        idp.admin_delete_user(UserPoolId=pool, Username=email.strip().lower())
    return True
