"""Chat-template rendering in a sandboxed Jinja environment, with a plain-text fallback."""

from __future__ import annotations

import datetime
import logging

import jinja2
from jinja2.sandbox import ImmutableSandboxedEnvironment

from mindgarden.core.errors import ModelFileError
from mindgarden.core.prompting import PLAIN_STOP, plain_prompt

log = logging.getLogger(__name__)


def _raise_exception(message: str) -> None:
    raise jinja2.TemplateError(message)


def _strftime_now(fmt: str) -> str:
    return datetime.datetime.now().strftime(fmt)


class ChatFormatter:
    """Renders messages into the prompt text a model expects.

    A model whose GGUF metadata has no ``tokenizer.chat_template`` is treated as a base
    model: the messages become a plain "Idea / Thought N:" text it continues.
    """

    def __init__(self, template: str | None, bos_token: str = "", eos_token: str = "") -> None:
        self.source = template
        self.bos_token = bos_token
        self.eos_token = eos_token
        self._template = None
        if template:
            environment = ImmutableSandboxedEnvironment(
                trim_blocks=True, lstrip_blocks=True, extensions=["jinja2.ext.loopcontrols"]
            )
            environment.globals["raise_exception"] = _raise_exception
            environment.globals["strftime_now"] = _strftime_now
            try:
                self._template = environment.from_string(template)
            except jinja2.TemplateError as error:
                raise ModelFileError(
                    f"The model's chat template cannot be parsed: {error}. Choose another model file."
                ) from error

    @property
    def has_template(self) -> bool:
        return self._template is not None

    @property
    def default_stop(self) -> tuple[str, ...]:
        return () if self.has_template else PLAIN_STOP

    def render(self, messages: list[dict[str, str]]) -> str:
        if self._template is None:
            return plain_prompt(messages)
        try:
            return self._template.render(
                messages=messages,
                add_generation_prompt=True,
                bos_token=self.bos_token,
                eos_token=self.eos_token,
            )
        except jinja2.TemplateError as error:
            raise ModelFileError(
                f"The model's chat template failed on this conversation: {error}. "
                "Choose another model file or report the template."
            ) from error
