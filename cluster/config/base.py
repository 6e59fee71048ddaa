"""Shared base for every config model: strict, frozen-by-convention pydantic."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, ValidationError
from pydantic_core import InitErrorDetails, PydanticCustomError


class StrictModel(BaseModel):
    """Unknown keys are errors, values are validated on assignment too."""

    # hide_input_in_errors: a rejected value may be a source URL with its password
    # or a token; str(ValidationError) must never carry it into a log.
    # defer_build: a model's validator is built when it first validates, not at import.
    # Every Ray worker imports the whole config package, and a camera actor receives its
    # config already validated (pickled): building ~60 validators there cost a few
    # tenths of a CPU second per worker start for nothing (issue 16: start-up).
    model_config = ConfigDict(
        extra="forbid", validate_assignment=True, frozen=False, hide_input_in_errors=True, defer_build=True
    )


def invalid_at(model: type[BaseModel], loc: tuple[str | int, ...], message: str, value: object) -> ValidationError:
    """A validation error located at `loc` inside `model`, for checks that span fields
    (a model validator) but concern one key: the message names that key, like any other."""
    details = InitErrorDetails(type=PydanticCustomError("value_error", message), loc=loc, input=value)
    return ValidationError.from_exception_data(model.__name__, [details])
