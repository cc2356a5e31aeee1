"""The Notte Action model (notte-api-contract.md §5), for validating what /page/execute receives.

The endpoint echoes the action exactly as received (a goto echo must not gain keys), so these
models only check it: unknown fields are ignored, missing or mistyped ones answer 422.
"""

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

FormKey = Literal[
    "title", "first_name", "middle_name", "last_name", "full_name", "email", "company", "address1", "address2",
    "address3", "city", "state", "postal_code", "country", "phone", "cc_name", "cc_number", "cc_exp_month",
    "cc_exp_year", "cc_exp", "cc_cvv", "username", "password", "current_password", "new_password", "totp",
]


class _Base(BaseModel):
    model_config = ConfigDict(extra="ignore")
    category: str | None = None
    description: str | None = None


class _Interaction(_Base):
    id: str | None = None
    selector: str | dict[str, Any] | None = None
    press_enter: bool | None = None
    text_label: str | None = None
    timeout: int = Field(15000, ge=0, le=120_000)

    @model_validator(mode="after")
    def _needs_a_target(self):
        if not self.id and not self.selector:
            raise ValueError("give the element's id (from observe) or a selector")
        return self


class Click(_Interaction):
    type: Literal["click"]


class Fill(_Interaction):
    type: Literal["fill", "multi_factor_fill", "fallback_fill"]
    value: str
    clear_before_fill: bool = True


class Check(_Interaction):
    type: Literal["check"]
    value: bool


class SelectOption(_Interaction):
    type: Literal["select_dropdown_option"]
    value: str


class UploadFile(_Interaction):
    type: Literal["upload_file"]
    file_path: str = Field(min_length=1)


class DownloadFile(_Interaction):
    type: Literal["download_file"]


class Goto(_Base):
    type: Literal["goto", "goto_new_tab"]
    url: str = Field(min_length=1, max_length=8192)


class NoArgument(_Base):
    type: Literal["close_tab", "go_back", "go_forward", "reload"]


class SwitchTab(_Base):
    type: Literal["switch_tab"]
    tab_index: int = Field(ge=0)


class Wait(_Base):
    type: Literal["wait"]
    time_ms: int = Field(ge=0, le=30000)


class PressKey(_Base):
    type: Literal["press_key"]
    key: str = Field(min_length=1, max_length=60)


class Scroll(_Base):
    type: Literal["scroll_up", "scroll_down"]
    amount: int | None = None


class CaptchaSolve(_Base):
    type: Literal["captcha_solve"]
    captcha_type: str | None = None


class FormFill(_Base):
    type: Literal["form_fill"]
    value: dict[FormKey, str] = Field(min_length=1)


class Help(_Base):
    type: Literal["help"]
    reason: str


class Completion(_Base):
    type: Literal["completion"]
    success: bool
    answer: str


class ScrapeAction(_Base):
    type: Literal["scrape"]
    instructions: str | None = None
    only_main_content: bool = True
    selector: str | None = None
    only_images: bool = False
    scrape_links: bool = True
    scrape_images: bool = False
    ignored_tags: list[str] | None = None
    response_format: dict[str, Any] | None = None


class ReadMessages(_Base):
    type: Literal["email_read", "sms_read"]
    limit: int = 10
    timedelta: float | None = 300
    only_unread: bool = True


class EvaluateJs(_Base):
    type: Literal["evaluate_js"]
    code: str = Field(min_length=1)


Action = Annotated[
    Click | Fill | Check | SelectOption | UploadFile | DownloadFile | Goto | NoArgument | SwitchTab | Wait
    | PressKey | Scroll | CaptchaSolve | FormFill | Help | Completion | ScrapeAction | ReadMessages | EvaluateJs,
    Field(discriminator="type"),
]
action_adapter: TypeAdapter[Any] = TypeAdapter(Action)
