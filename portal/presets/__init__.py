"""Presets: whole co-ops to start from, each with its own words, people and documents.

``resonate`` is the reference (listeners, artists and workers of a music service, Irish,
in euro); ``stocksy`` proves the model general (contributing artists, employees, founders
and advisors of a photo agency, British Columbian, in Canadian dollars); ``loconomics`` is
a two-sided marketplace (freelance service providers and their clients, Californian, in US
dollars); ``membersmedia`` a producers-and-fans co-op (filmmakers and audience members,
New York, in US dollars).
"""

from __future__ import annotations

from .loconomics import LOCONOMICS
from .membersmedia import MEMBERSMEDIA
from .resonate import RESONATE
from .spec import (
    ClassPreset,
    Demo,
    DemoPerson,
    ExtraApplicant,
    ExtraMember,
    MeetingPreset,
    Preset,
    ProposalPreset,
    ProxyPreset,
    QuestionPreset,
    RequisitionPreset,
    ResolutionPreset,
    ShareTypePreset,
)
from .stocksy import STOCKSY

PRESETS: dict[str, Preset] = {
    preset.name: preset for preset in (RESONATE, STOCKSY, LOCONOMICS, MEMBERSMEDIA)
}

__all__ = [
    "LOCONOMICS",
    "MEMBERSMEDIA",
    "PRESETS",
    "RESONATE",
    "STOCKSY",
    "ClassPreset",
    "Demo",
    "DemoPerson",
    "ExtraApplicant",
    "ExtraMember",
    "MeetingPreset",
    "Preset",
    "ProposalPreset",
    "ProxyPreset",
    "QuestionPreset",
    "RequisitionPreset",
    "ResolutionPreset",
    "ShareTypePreset",
]
