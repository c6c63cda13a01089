"""The report's sections as a registry: each one a pure function, in the order the page shows them.

``register_section(name, order, figures=...)`` adds a function ``Inputs -> Part | None``; the
figures it may draw are declared with it (their slugs, in order), and every figure file is
numbered from this registry (``NN_slug.png``): a new section is one registered function, and its
figures take their numbers with it. A section named in a benchmark group's spec (``GroupSpec.sections``)
runs only when the runs hold benchmarks of such a group; the others run on every report. The built-in sections
and installed packages' come in through the entry point group ``mnist_models.sections`` (a module whose import
registers them; each built-in group's folder names its ``report`` module there), loaded on the registry's
first use. A section registered with ``findings=True`` says what the others found: it is built after
them, from their merged findings and the ids of the sections shown, and placed by its ``order`` like any other.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ...installed import load_entry_points
from ...results.groups import GROUPS
from ..page.content import Figure
from .inputs import Inputs, Part

Build = Callable[..., "Part | None"]  # (inputs) -> Part | None; with findings=True, (inputs, findings, shown)
ENTRY_POINT_GROUP = "mnist_models.sections"  # the built-in sections and installed packages' sections come in here


@dataclass(frozen=True)
class SectionSpec:
    name: str
    build: Build
    order: int
    figures: tuple[str, ...] = ()  # the slugs of the figures it may draw, in order
    findings: bool = False  # built after the others, from their merged findings and the shown sections' ids


class SectionRegistry:
    """Section specs by name, in the page's order; the installed sections and groups loaded on first use."""

    def __init__(self) -> None:
        self._specs: dict[str, SectionSpec] = {}
        self._installed = False

    def _load_installed(self) -> None:
        if self._installed:
            return
        self._installed = True
        load_entry_points(ENTRY_POINT_GROUP)
        if not self._specs:
            raise ValueError(
                f"no report section is registered: the entry points of {ENTRY_POINT_GROUP} are missing "
                "(reinstall mnist-models: pip install -e .)"
            )

    def add(self, spec: SectionSpec) -> SectionSpec:
        existing = self._specs.get(spec.name)
        same = existing is not None and _where(existing.build) == _where(spec.build)  # a module run again
        if existing is not None and not same:
            raise ValueError(f"report section {spec.name!r} is registered already; give the new one another name")
        self._specs[spec.name] = spec
        return spec

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def specs(self) -> list[SectionSpec]:
        self._load_installed()
        return sorted(self._specs.values(), key=lambda s: (s.order, s.name))

    def names(self) -> list[str]:
        return [s.name for s in self.specs()]

    def figure_files(self) -> dict[tuple[str, str], str]:
        """(section, slug) -> its file name, numbered in the registry's order: ``01_accuracy.png``."""
        slugs = [(s.name, slug) for s in self.specs() for slug in s.figures]
        return {key: f"{number:02d}_{key[1]}.png" for number, key in enumerate(slugs, start=1)}


SECTIONS = SectionRegistry()


def register_section(
    name: str, order: int, figures: Iterable[str] = (), findings: bool = False
) -> Callable[[Build], Build]:
    """Decorator: ``function(inputs) -> Part | None`` is the report's section ``name``, shown by ``order``;
    with ``findings=True``, ``function(inputs, findings, shown)``, built after every other section from their
    merged findings and the ids of the sections shown."""

    def add(build: Build) -> Build:
        SECTIONS.add(SectionSpec(name, build, order, tuple(figures), findings))
        return build

    return add


def fed_by_groups() -> dict[str, set[str]]:
    """Section -> the benchmark groups whose specs say they feed it; a section named by no group is not here."""
    fed: dict[str, set[str]] = {}
    for group in GROUPS.specs():
        for section in group.sections:
            fed.setdefault(section, set()).add(group.name)
    unknown = sorted(set(fed) - set(SECTIONS.names()))
    if unknown:
        raise ValueError(
            f"benchmark group(s) feed report section(s) {', '.join(unknown)} that are not registered; sections are "
            f"{', '.join(SECTIONS.names())}"
        )
    return fed


def run_sections(inputs: Inputs) -> list[tuple[SectionSpec, Part]]:
    """Every registered section that applies to these runs, in the registry's order, its figures numbered."""
    present = {b.record.group for run in inputs.runs for b in run.benches}
    fed = fed_by_groups()
    files = SECTIONS.figure_files()
    specs = [s for s in SECTIONS.specs() if s.name not in fed or fed[s.name] & present]
    built = {s.name: s.build(inputs) for s in specs if not s.findings}
    found = inputs.found.to_json() if inputs.found is not None else {}
    for part in built.values():
        found.update(part.findings if part is not None else {})
    shown = {p.section.id for p in built.values() if p is not None and p.section and _shown(p.section)}
    built.update({s.name: s.build(inputs, found, shown) for s in specs if s.findings})
    return [(s, _numbered(s, built[s.name], files)) for s in specs if built[s.name] is not None]


def _where(function: Callable) -> tuple[str, str]:
    return getattr(function, "__module__", ""), getattr(function, "__qualname__", repr(function))


def _shown(section) -> bool:
    return bool(section.has_text or section.figures)


def _numbered(spec: SectionSpec, part: Part, files: dict[tuple[str, str], str]) -> Part:
    if part.section is None or not part.section.figures:
        return part
    figures = []
    for figure in part.section.figures:
        if (spec.name, figure.name) not in files:
            raise ValueError(f"report section {spec.name!r} drew figure {figure.name!r} it did not declare")
        figures.append(Figure(files[(spec.name, figure.name)], figure.caption, figure.png))
    return replace(part, section=replace(part.section, figures=tuple(figures)))
