"""The base for tuishou's input models: frozen, no extra fields, our errors instead of pydantic's.

Every way of building a model (``Model(...)``, ``model_validate``, ``model_validate_json``)
raises the model's own error class (e.g. ``InvalidPolicyError``) listing every problem
pydantic found, each as ``field.path: what is wrong``. When a problem is a float where
money or a rate belongs, the raised error is also a ``TypeError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from types import MappingProxyType
from typing import Annotated, Any, ClassVar, Self, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    WrapSerializer,
)

from tuishou.errors import FloatRefusedError, ProblemsError, did_you_mean
from tuishou.ids import id_problem
from tuishou.money import FloatValueError
from tuishou.times import time_problem

__all__ = [
    "BRACKET_CONFIG",
    "AwareTime",
    "FrozenMap",
    "FrozenModel",
    "Id",
    "Problems",
    "aware_time_field",
    "located_problems",
    "normal_id_field",
    "time_input_field",
]

_V = TypeVar("_V")


def _freeze(mapping: Mapping[str, _V]) -> Mapping[str, _V]:
    return MappingProxyType(dict(mapping))


def _as_dict(value: Mapping[str, Any], handler: Any) -> Any:
    return handler(dict(value))


# A read-only mapping, dumped as a plain dict: a validated model cannot be edited behind its
# validators' back.
FrozenMap = Annotated[Mapping[str, _V], AfterValidator(_freeze), WrapSerializer(_as_dict)]


def normal_id_field(value: str, info: ValidationInfo) -> str:
    """A pydantic after-validator: the field's value must be an id in normal form."""
    problem = id_problem(value, name=info.field_name or "id")
    if problem is not None:
        raise ValueError(problem)
    return value


# An identifier field (order, buyer, sharer, SKU, group, tier, ...): text in the one normal
# form of ``tuishou.ids``; anything else is refused with the normal form named.
Id = Annotated[str, Field(strict=True), AfterValidator(normal_id_field)]


def aware_time_field(value: datetime, info: ValidationInfo) -> datetime:
    """A pydantic after-validator: the field's value must be an aware datetime (``ids``)."""
    problem = time_problem(value, name=info.field_name or "time")
    if problem is not None:
        raise ValueError(problem)
    return value


def time_input_field(value: Any, info: ValidationInfo) -> Any:
    """A pydantic before-validator: a time is a datetime or ISO 8601 text, nothing else.

    Pydantic's lax mode would read a number (or numeric text) as Unix seconds, silently
    turning ``since=1700000000`` into a time of 2023; a number is refused instead.
    """
    name = info.field_name or "time"
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            raise ValueError(
                f"{name}={value!r} is not a time; write ISO 8601 with an offset, "
                "e.g. 2026-11-24T09:00:00+08:00"
            ) from None
    if not isinstance(value, datetime):
        raise ValueError(
            f"{name}={value!r} is not a time (a number is never read as Unix seconds); give an "
            "aware datetime or ISO 8601 text with an offset, e.g. 2026-11-24T09:00:00+08:00"
        )
    return value


# A time field (``paid_at``, ...): an aware datetime (or ISO text), the one rule of
# ``tuishou.ids``; a number is refused, never read as Unix seconds.
AwareTime = Annotated[datetime, BeforeValidator(time_input_field), AfterValidator(aware_time_field)]


class Problems(ValueError):  # noqa: N818  (pydantic-internal carrier, never escapes)
    """Raised by a model validator to report several cross-field problems at once."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("; ".join(problems))


BRACKET_CONFIG = ConfigDict(
    frozen=True,
    extra="forbid",
    validate_by_name=True,
    validate_by_alias=True,
    serialize_by_alias=True,  # dumped as written: "from"
)
"""The config of a bracket model, whose ``start`` is written ``from`` (a Python keyword):
read by either name, dumped as ``from`` (quantity brackets, fixed brackets, team brackets)."""


class FrozenModel(BaseModel):
    """Frozen, closed pydantic model whose validation errors are tuishou errors."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    error_class: ClassVar[type[ProblemsError]]
    what: ClassVar[str] = "invalid input"

    def __init__(self, /, **data: Any) -> None:
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise _translate(type(self), exc) from None

    @classmethod
    def model_validate(cls, obj: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate(obj, *args, **kwargs)
        except ValidationError as exc:
            raise _translate(cls, exc) from None

    @classmethod
    def model_validate_json(cls, json_data: Any, *args: Any, **kwargs: Any) -> Self:
        try:
            return super().model_validate_json(json_data, *args, **kwargs)
        except ValidationError as exc:
            raise _translate(cls, exc) from None


def _translate(model: type[FrozenModel], exc: ValidationError) -> ProblemsError:
    located = _locate(exc, _field_names(model))
    problems = [f"{where}: {message}" if where else message for where, message, _ in located]
    has_float = any(is_float for _, _, is_float in located)
    error_class = _with_type_error(model.error_class) if has_float else model.error_class
    error = error_class.from_problems(model.what, problems)
    error.located = located  # type: ignore[attr-defined]
    return error


def located_problems(model: type[BaseModel], exc: ValidationError) -> list[tuple[str, str, bool]]:
    """Every problem of ``exc``, raised validating ``model``, as (field path, message, is a
    float problem), nested ones flattened: for a validator that adds problems to them."""
    return _locate(exc, _field_names(model))


def _locate(exc: ValidationError, known: set[str]) -> list[tuple[str, str, bool]]:
    """(field path, message, is a float problem) for every error, nested ones flattened.

    A model with its own ``__init__`` is built through it even when nested, so an inner
    model's translated error can arrive here wrapped; its problems are re-rooted. An unknown
    field gets a did-you-mean among ``known`` (the model's fields and its nested models').
    """
    located: list[tuple[str, str, bool]] = []
    for error in exc.errors():
        cause = error.get("ctx", {}).get("error")
        where = ".".join(str(part) for part in error["loc"])
        inner = getattr(cause, "located", None)
        if inner is not None:
            located += [(".".join(p for p in (where, w) if p), m, f) for w, m, f in inner]
            continue
        is_float = isinstance(cause, FloatValueError)
        messages = _messages(error, cause)
        if error["type"] == "extra_forbidden":
            field = str(error["loc"][-1])
            messages = [f"{m}; {did_you_mean(field, known - {field})}" for m in messages]
        located += [(where, message, is_float) for message in messages]
    return located


def _field_names(model: type[BaseModel]) -> set[str]:
    """The field names of ``model`` and of the models nested in it (for did-you-mean)."""
    names = set(model.model_fields)
    for info in model.model_fields.values():
        for inner in _nested_models(info.annotation):
            if inner is not model:
                names |= _field_names(inner)
    return names


def _nested_models(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in getattr(annotation, "__args__", ()) for m in _nested_models(arg)]


def _messages(error: Any, cause: object) -> list[str]:
    if isinstance(cause, Problems):
        return cause.problems
    if isinstance(cause, ValueError):
        return [str(cause)]
    if error["type"] == "missing":
        return ["is required"]
    shown = repr(error["input"])
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return [f"{error['msg']} (got {shown})"]


_FLOAT_VARIANTS: dict[str, type[ProblemsError]] = {}


def _with_type_error(error_class: type[ProblemsError]) -> type[ProblemsError]:
    """The same error, also a ``TypeError``: a float is a type problem as much as a value one."""
    key = error_class.__qualname__
    if key not in _FLOAT_VARIANTS:
        namespace = {"__module__": error_class.__module__}
        _FLOAT_VARIANTS[key] = type(key, (error_class, FloatRefusedError), namespace)
    return _FLOAT_VARIANTS[key]
