"""Architecture registry: names map to small factories plus the metadata the suite needs.

The registry knows nothing of what it holds: the built-ins register themselves when
``mnist_models.models`` is imported (which importing this module does first), and so do
installed packages' architectures and the user's own ``register_model`` calls.
"""

from __future__ import annotations

import ast
import contextlib
import fnmatch
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

DEFAULT_DATASET = "mnist"  # the dataset a bare ``floor`` is for, and a session's when none is named


if TYPE_CHECKING:
    from torch import nn

FAMILIES = ("linear", "mlp", "cnn")
BUILT_INS = "mnist_models built-ins (mnist_models.models.architectures)"


class UnknownModelError(KeyError):
    """Raised for a model name the registry does not know; the message lists valid names."""

    def __str__(self) -> str:  # KeyError quotes its message; we want it readable
        return str(self.args[0])


@dataclass(frozen=True)
class ProfileSettings:
    """An architecture's settings under one profile: its epochs, its accuracy floor on each dataset, and why a floor
    is what it is.

    Given to ``register_model(profiles={"quick": {"epochs": 2, "floor": 0.95}})`` as a mapping whose keys are
    checked: ``epochs``, ``floor`` (on the default dataset, MNIST), ``floor[<dataset>]`` (on another) and
    ``floor_reason``; any other key is an error naming the valid ones, so a typo cannot silently train the
    protocol's 100 epochs. A dataset without a floor here has none (the record says ``floor: null``).
    """

    epochs: int | None = None
    floors: Mapping[str, float] = field(default_factory=dict)  # each dataset's floor, by the dataset's name
    floor_reason: str = ""  # why the floor is not the rule's figure, where it was changed for a measured reason

    @classmethod
    def of(cls, model: str, profile: str, values: Mapping[str, Any]) -> ProfileSettings:
        unknown = [key for key in values if key not in _PROFILE_KEYS and not _DATASET_FLOOR.fullmatch(key)]
        if unknown:
            raise ValueError(
                f"model {model!r}, profile {profile!r}: unknown setting(s) {', '.join(map(repr, unknown))}; "
                "valid: epochs, floor, floor[<dataset>] (e.g. floor[fashion-mnist]), floor_reason"
            )
        epochs = values.get("epochs")
        if epochs is not None and (not isinstance(epochs, int) or epochs < 1):
            raise ValueError(
                f"model {model!r}, profile {profile!r}: epochs must be a whole number >= 1, got {epochs!r}"
            )
        floors = {match[1]: float(v) for k, v in values.items() if (match := _DATASET_FLOOR.fullmatch(k))}
        if values.get("floor") is not None:
            floors[DEFAULT_DATASET] = float(values["floor"])
        return cls(epochs, MappingProxyType(floors), str(values.get("floor_reason", "")))

    @property
    def floor(self) -> float | None:
        """The floor on the default dataset (MNIST)."""
        return self.floors.get(DEFAULT_DATASET)

    def floor_on(self, dataset: str) -> float | None:
        return self.floors.get(dataset)


_PROFILE_KEYS = ("epochs", "floor", "floor_reason")
_DATASET_FLOOR = re.compile(r"floor\[([\w.-]+)\]")
_NO_SETTINGS = ProfileSettings()


def _with_floors(
    profiles: Mapping[str, ProfileSettings], floors: Mapping[str, Mapping[str, float]], model: str
) -> dict[str, ProfileSettings]:
    """``profiles`` with ``floors`` ({dataset: {profile: floor}}) added; a floor given twice is an error."""
    merged = dict(profiles)
    for dataset, by_profile in floors.items():
        for profile, value in by_profile.items():
            settings = merged.get(profile, _NO_SETTINGS)
            if dataset in settings.floors:
                raise ValueError(f"model {model!r}, profile {profile!r}: two floors on {dataset!r}")
            floors_now = MappingProxyType({**settings.floors, dataset: float(value)})
            merged[profile] = replace(settings, floors=floors_now)
    return merged


@dataclass(frozen=True)
class ModelSpec:
    """One registered architecture.

    ``train`` holds the training settings that differ from the default protocol
    (``TrainConfig`` field names); ``profiles`` holds each profile's ``ProfileSettings``
    (epochs, accuracy floors): the suite reads them from here, so they live next to the
    architecture they describe.
    ``params`` are the keyword arguments the factory was called with (parametric
    families); ``parametric`` says the factory accepts keyword overrides.
    """

    name: str
    factory: Callable[..., nn.Module]
    family: str
    description: str
    train: Mapping[str, Any] = field(default_factory=dict)
    profiles: Mapping[str, ProfileSettings] = field(default_factory=dict)
    parametric: bool = False
    params: Mapping[str, Any] = field(default_factory=dict)
    source: str = ""  # where it was registered: the built-ins, a module, or an installed package's entry point

    def build(self) -> nn.Module:
        """Build a fresh model (random weights from the current torch seed)."""
        return self.factory(**self.params)

    def profile(self, name: str) -> ProfileSettings:
        """Settings for one profile (none set when the spec has none for it)."""
        return self.profiles.get(name, _NO_SETTINGS)

    def floor(self, profile: str, dataset: str = DEFAULT_DATASET) -> float | None:
        """The accuracy floor under ``profile`` on ``dataset`` (``None``: no floor, where none was registered)."""
        return self.profile(profile).floor_on(dataset)

    @property
    def floors(self) -> dict[str, dict[str, float]]:
        """Every floor of the spec: ``{dataset: {profile: floor}}``."""
        table: dict[str, dict[str, float]] = {}
        for profile, settings in self.profiles.items():
            for dataset, value in settings.floors.items():
                table.setdefault(dataset, {})[profile] = value
        return table

    def floor_reason(self, profile: str) -> str:
        """Why the floor is what it is, where it was changed for a measured reason (else ``""``)."""
        return self.profile(profile).floor_reason

    @property
    def display_name(self) -> str:
        """The name including parameters, e.g. ``mlp(depth=2,width=64)``."""
        if not self.params:
            return self.name
        args = ",".join(f"{k}={_format_value(v)}" for k, v in self.params.items())
        return f"{self.name}({args})"


def _format_value(value: Any) -> str:
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(_format_value(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value)


class Registry:
    """A mapping of names to :class:`ModelSpec`, with lookup by pattern and parametric names."""

    def __init__(self) -> None:
        self._specs: dict[str, ModelSpec] = {}
        self.loading: str | None = None  # the entry point being loaded, if any: the source of what it registers

    def add(self, spec: ModelSpec) -> ModelSpec:
        if spec.family not in FAMILIES:
            raise ValueError(f"model {spec.name!r}: family must be one of {FAMILIES}, got {spec.family!r}")
        existing = self._specs.get(spec.name)
        if existing is not None and existing.factory is not spec.factory:
            # Re-registering the same factory (a module imported twice) is harmless.
            raise ValueError(
                f"model {spec.name!r} from {spec.source} clashes with the model of that name from "
                f"{existing.source}; register one of them under another name (register_model(..., name=...))"
            )
        self._specs[spec.name] = spec
        return spec

    @contextlib.contextmanager
    def registering_from(self, source: str) -> Iterator[None]:
        """Attribute what is registered inside this block to ``source`` (an entry point being loaded)."""
        previous, self.loading = self.loading, source
        try:
            yield
        finally:
            self.loading = previous

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def names(self, pattern: str = "*") -> list[str]:
        return sorted(n for n in self._specs if fnmatch.fnmatchcase(n, pattern))

    def get(self, name: str) -> ModelSpec:
        """Resolve ``name`` or a parametric call such as ``mlp(depth=4,width=256)``."""
        base, kwargs = parse_model_name(name)
        spec = self._specs.get(base)
        if spec is None:
            raise UnknownModelError(f"unknown model {base!r}; registered models are: {', '.join(self.names())}")
        if not kwargs:
            return spec
        if not spec.parametric:
            raise ValueError(f"model {base!r} takes no arguments (got {name!r})")
        return _with_params(spec, kwargs)


def _with_params(spec: ModelSpec, kwargs: Mapping[str, Any]) -> ModelSpec:
    merged = {**spec.params, **kwargs}
    try:
        spec.factory(**merged)  # fail early, with the factory's own message, on a bad argument
    except TypeError as exc:
        raise ValueError(f"bad arguments for model {spec.name!r}: {exc}") from None
    return replace(spec, parametric=True, params=MappingProxyType(dict(sorted(merged.items()))))


def parse_model_name(text: str) -> tuple[str, dict[str, Any]]:
    """Split ``"mlp(depth=4, width=256)"`` into ``("mlp", {"depth": 4, "width": 256})``.

    Arguments must be keyword literals (numbers, strings, tuples); nothing is executed.
    """
    text = text.strip()
    if "(" not in text:
        return text, {}
    try:
        node = ast.parse(text, mode="eval").body
    except SyntaxError:
        raise ValueError(f"cannot parse model name {text!r}; expected e.g. 'mlp(depth=4,width=256)'") from None
    if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name) or node.args:
        raise ValueError(f"model name {text!r} must look like name(key=value, ...)")
    kwargs = {}
    for kw in node.keywords:
        try:
            value = ast.literal_eval(kw.value)
        except ValueError:
            raise ValueError(f"argument {kw.arg!r} of {text!r} must be a literal") from None
        kwargs[kw.arg] = tuple(value) if isinstance(value, list) else value
    return node.func.id, kwargs


REGISTRY = Registry()


def register_model(
    family: str,
    description: str,
    *,
    name: str | None = None,
    train: Mapping[str, Any] | None = None,
    profiles: Mapping[str, Mapping[str, Any]] | None = None,
    parametric: bool = False,
    defaults: Mapping[str, Any] | None = None,
    floors: Mapping[str, Mapping[str, float]] | None = None,
) -> Callable[[Callable[..., nn.Module]], Callable[..., nn.Module]]:
    """Decorator: register a factory under its function name (or ``name``).

    ``floors`` holds accuracy floors by dataset and profile (``{"fashion-mnist": {"quick": 0.82}}``), beside
    those a profile's ``floor`` (the default dataset's) and ``floor[<dataset>]`` give.
    """

    def decorate(factory: Callable[..., nn.Module]) -> Callable[..., nn.Module]:
        model = name or factory.__name__
        settings = {k: ProfileSettings.of(model, k, v) for k, v in (profiles or {}).items()}
        REGISTRY.add(
            ModelSpec(
                name=name or factory.__name__,
                factory=factory,
                family=family,
                description=description,
                train=MappingProxyType(dict(train or {})),
                profiles=MappingProxyType(_with_floors(settings, floors or {}, model)),
                parametric=parametric,
                params=MappingProxyType(dict(defaults or {})),
                source=_source(factory),
            )
        )
        return factory

    return decorate


def unregister_model(name: str) -> None:
    """Remove a model (mainly for tests that register temporary ones)."""
    REGISTRY.remove(name)


def list_models(pattern: str = "*") -> list[str]:
    """Registered names matching an fnmatch pattern, sorted."""
    return REGISTRY.names(pattern)


def get_spec(name: str) -> ModelSpec:
    """The spec for a registered name or a parametric call such as ``cnn(channels=(16,32))``."""
    return REGISTRY.get(name)


def create_model(name: str, **overrides: Any) -> nn.Module:
    """Build a model by name; keyword overrides go to a parametric factory."""
    spec = get_spec(name)
    if overrides:
        if not spec.parametric:
            raise ValueError(f"model {spec.name!r} takes no arguments (got {sorted(overrides)})")
        spec = _with_params(spec, overrides)
    return spec.build()


def resolve_models(patterns: list[str]) -> list[ModelSpec]:
    """Expand patterns and parametric names into specs, in order, without duplicates.

    Wildcards leave out parametric families (``mlp``, ``cnn``): name them exactly, or
    with arguments, to include them. A pattern that matches nothing is an error
    naming the valid models.
    """
    specs: dict[str, ModelSpec] = {}
    for pattern in patterns:
        if "(" in pattern:
            spec = REGISTRY.get(pattern)
            specs.setdefault(spec.display_name, spec)
            continue
        names = [n for n in REGISTRY.names(pattern) if n == pattern or not REGISTRY.get(n).parametric]
        if not names:
            raise UnknownModelError(
                f"no registered model matches {pattern!r}; registered models are: {', '.join(REGISTRY.names())}"
            )
        for n in names:
            specs.setdefault(n, REGISTRY.get(n))
    return list(specs.values())


def _source(factory: Callable[..., Any]) -> str:
    if REGISTRY.loading is not None:
        return REGISTRY.loading
    module = getattr(factory, "__module__", "?")
    return BUILT_INS if module.startswith("mnist_models.") else f"module {module}"
