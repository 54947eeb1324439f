"""What the WhatsApp endpoints answer: the bridge's logins and login steps, passed through
in the bridge's own shape, and a new chat the bridge is still making."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from .models import Out


class NewChatPendingOut(Out):
    room_id: str = Field(description="The bridge's new room; its conversation arrives live")


class WhatsAppOut(Out):
    logins: list[str] = Field(description="The bridge's WhatsApp login ids (phone numbers)")


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
