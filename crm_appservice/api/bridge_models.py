"""What the WhatsApp endpoints answer: the bridge's logins and login steps, passed through
in the bridge's own shape, and a new chat the bridge is still making."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .models import Body, Out


class NewChatPendingOut(Out):
    room_id: str = Field(description="The bridge's new room; its conversation arrives live")


class NumberStateOut(Out):
    login_id: str = Field(description="The login's id at the bridge: the number's digits")
    name: str | None = Field(description="The name admins gave it; null: none yet")
    phone: str | None = Field(description="The number, as WhatsApp says it (+…)")
    state: Literal["connected", "connecting", "phone_offline", "logged_out", "error"] = Field(
        description="What the bridge says of the login: connected; connecting (or reconnecting "
        "after a network hiccup); phone_offline (the phone is off or has no internet); "
        "logged_out (link it again); error (see the bridge's log)"
    )


class WhatsAppOut(Out):
    logins: list[str] = Field(description="The bridge's WhatsApp login ids (phone numbers)")
    numbers: list[NumberStateOut] = Field(
        default_factory=list, description="Each login with its name and state"
    )


class NumberNameBody(Body):
    name: str | None = Field(
        min_length=1, max_length=80, description="What the inbox calls the number; null: none"
    )


class _BridgeShape(BaseModel):
    """Part of the bridge's login step, passed through: fields a newer bridge adds are kept."""

    model_config = ConfigDict(extra="allow")


class LoginDisplayOut(_BridgeShape):
    type: str = Field(description="qr, code, emoji or nothing")
    data: str | None = None


class LoginFieldOut(_BridgeShape):
    id: str
    type: str | None = None
    name: str | None = None


class LoginInputOut(_BridgeShape):
    fields: list[LoginFieldOut]


class LoginCompleteOut(_BridgeShape):
    user_login_id: str | None = None


class LoginStepOut(_BridgeShape):
    """A step of the bridge's login: show something and wait, ask for input, or complete."""

    login_id: str
    step_id: str
    type: str = Field(description="display_and_wait, user_input, complete or cookies")
    instructions: str | None = None
    display_and_wait: LoginDisplayOut | None = None
    user_input: LoginInputOut | None = None
    complete: LoginCompleteOut | None = None


class NewConversationBody(Body):
    phone: str = Field(pattern=r"^\+?[0-9 ()\-]{5,25}$", description="With the country code")
    login_id: str | None = Field(
        default=None,
        pattern=r"^[0-9]{5,20}$",
        description="Which of the business's numbers to write from (its login id); needed "
        "when more than one is connected",
    )
