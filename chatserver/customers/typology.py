"""The customer types an operator can note, with the handling hint shown beside the chat.

Two typologies from the playbook (section e): the ten types of Haman & Gut (1999) as the
seed deck [000] gives them, and the four difficult types of [002]. The seed describes the
difficult types only; their handling is derived from [002]'s general rules, so those hints
are marked ``derived``. Ids are stable: the console stores them and sends them back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

HAMAN_GUT = "haman_gut"
DIFFICULT = "difficult"


@dataclass(frozen=True, slots=True)
class CustomerType:
    id: str
    family: str  # HAMAN_GUT | DIFFICULT
    name: str
    seed_name: str  # the Polish term in the seed deck
    signs: str
    hint: str
    derived: bool = False  # the hint is inferred from general rules, not stated by the seed

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


TYPES: tuple[CustomerType, ...] = (
    CustomerType(
        "me", HAMAN_GUT, "Me", "Ja",
        "decides alone, dislikes help, likes choice",
        "Don't argue; value their opinions. Offer choices, not advice.",
    ),
    CustomerType(
        "others", HAMAN_GUT, "Others", "Inni",
        "wants help choosing, cares what others think",
        "Recommend; say that others chose it too.",
    ),
    CustomerType(
        "agreeable", HAMAN_GUT, "Agreeable", "Zgodny",
        "agrees, buys a lot but stays unsatisfied, often a one-off buyer",
        "Spend time on their needs and help them decide.",
    ),
    CustomerType(
        "negating", HAMAN_GUT, "Negating", "Negujący",
        "criticises, finds faults, 'hates'",
        "Don't argue; value their opinions. Stay matter-of-fact, concrete and genuine.",
    ),
    CustomerType(
        "goals", HAMAN_GUT, "Goals", "Cele",
        "knows what they want",
        "Reach the goal and stay focused on it.",
    ),
    CustomerType(
        "problems", HAMAN_GUT, "Problems", "Problemy",
        "sees problems, asks many questions, uncertain",
        "Take care of them and reduce their fears.",
    ),
    CustomerType(
        "systematic", HAMAN_GUT, "Systematic", "Systematyczny",
        "clear goal, methodical",
        "Complete the purchase; repeat their goals back to them.",
    ),
    CustomerType(
        "chaotic", HAMAN_GUT, "Chaotic", "Chaotyczny",
        "jumps between topics",
        "Listen; don't impose structure.",
    ),
    CustomerType(
        "personal", HAMAN_GUT, "Personal", "Osobisty",
        "personal bond with the brand, chatty",
        "Build an emotional bond; refer to personal experience.",
    ),
    CustomerType(
        "matter_of_fact", HAMAN_GUT, "Matter-of-fact", "Rzeczowy",
        "dislikes familiarity, cool, rational",
        "Keep your distance; be rational.",
    ),
    CustomerType(
        "placater", DIFFICULT, "Placater", "Zjednywacz",
        "passive, agrees to everything, apologises, can't decide",
        "Give support and approval; help them decide.",
        derived=True,
    ),
    CustomerType(
        "accuser", DIFFICULT, "Accuser", "Oskarżacz",
        "angry, domineering, 'you always / you never'",
        "Don't be provoked; tackle the problem, not the person; set boundaries assertively; "
        "concede facts.",
        derived=True,
    ),
    CustomerType(
        "computer", DIFFICULT, "Computer", "Komputerowiec",
        "cold know-it-all, abstract, ironic, tests you",
        "Stay factual; say assertively: 'I have a different opinion.'",
        derived=True,
    ),
    CustomerType(
        "spaced_out", DIFFICULT, "Spaced-out", "Odlotowiec",
        "off-topic, chaotic, forgetful, complains to superiors",
        "Listen, paraphrase, and write down what was agreed.",
        derived=True,
    ),
)  # fmt: skip

BY_ID: dict[str, CustomerType] = {t.id: t for t in TYPES}
FAMILIES: dict[str, str] = {
    HAMAN_GUT: "Customer types (Haman & Gut)",
    DIFFICULT: "Difficult customers",
}


def customer_type(type_id: str | None) -> CustomerType | None:
    return BY_ID.get(type_id) if type_id else None


def catalogue() -> dict[str, Any]:
    """Both typologies for the console's picker."""
    return {
        "families": [{"id": k, "name": v} for k, v in FAMILIES.items()],
        "types": [t.to_json() for t in TYPES],
    }
