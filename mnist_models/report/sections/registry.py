"""The report's sections as a registry: each one a pure function, in the order the page shows them.

``register_section(name, order, figures=...)`` adds a function ``Inputs -> Part | None``; the
figures it may draw are declared with it (their slugs, in order), and every figure file is
numbered from this registry (``NN_slug.png``): a new section is one registered function, and its
figures take their numbers with it. A section named in a benchmark group's spec (``GroupSpec.sections``)
runs only when the runs hold benchmarks of such a group; the others run on every report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace

from ...results.groups import GROUPS
from ..page.content import Figure
from .inputs import Inputs, Part

Build = Callable[[Inputs], "Part | None"]


@dataclass(frozen=True)
class SectionSpec:
    name: str
    build: Build
    order: int
    figures: tuple[str, ...] = ()  # the slugs of the figures it may draw, in order


class SectionRegistry:
    def __init__(self) -> None:
        self._specs: dict[str, SectionSpec] = {}

    def add(self, spec: SectionSpec) -> SectionSpec:
        existing = self._specs.get(spec.name)
        if existing is not None and existing.build is not spec.build:
            raise ValueError(f"report section {spec.name!r} is registered already; give the new one another name")
        self._specs[spec.name] = spec
        return spec

    def remove(self, name: str) -> None:
        self._specs.pop(name, None)

    def specs(self) -> list[SectionSpec]:
        return sorted(self._specs.values(), key=lambda s: (s.order, s.name))

    def names(self) -> list[str]:
        return [s.name for s in self.specs()]

    def figure_files(self) -> dict[tuple[str, str], str]:
        """(section, slug) -> its file name, numbered in the registry's order: ``01_accuracy.png``."""
        slugs = [(s.name, slug) for s in self.specs() for slug in s.figures]
        return {key: f"{number:02d}_{key[1]}.png" for number, key in enumerate(slugs, start=1)}


SECTIONS = SectionRegistry()


def register_section(name: str, order: int, figures: Iterable[str] = ()) -> Callable[[Build], Build]:
    """Decorator: ``function(inputs) -> Part | None`` is the report's section ``name``, shown by ``order``."""

    def add(build: Build) -> Build:
        SECTIONS.add(SectionSpec(name, build, order, tuple(figures)))
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
    out = []
    for spec in SECTIONS.specs():
        if spec.name in fed and not fed[spec.name] & present:
            continue
        part = spec.build(inputs)
        if part is not None:
            out.append((spec, _numbered(spec, part, files)))
    return out


def _numbered(spec: SectionSpec, part: Part, files: dict[tuple[str, str], str]) -> Part:
    if part.section is None or not part.section.figures:
        return part
    figures = []
    for figure in part.section.figures:
        if (spec.name, figure.name) not in files:
            raise ValueError(f"report section {spec.name!r} drew figure {figure.name!r} it did not declare")
        figures.append(Figure(files[(spec.name, figure.name)], figure.caption, figure.png))
    return replace(part, section=replace(part.section, figures=tuple(figures)))
