"""The variables a reply may use, with a description an admin sees.

A reply names a variable in braces, ``{customer.first_name}``. The server fills
what it knows (the customer, the operator, the queue); the operator fills the rest.
Values are inserted as written, so a description says how a value should read in
the sentence: the replies in every language are worded around that convention.

The registry is open: :func:`register` adds a variable (a deployment with an order
system might add ``order.tracking_url``), and validation takes any mapping.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

NAME_PATTERN = r"[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*"
_NAME_RE = re.compile(rf"^{NAME_PATTERN}$")

# Anything in single braces is meant as a variable; whether it is a known one is
# the validator's question, not the parser's.
BRACES_RE = re.compile(r"\{([^{}\n]{1,60})\}")


@dataclass(frozen=True)
class Variable:
    """One fillable name and what it stands for."""

    name: str
    description: str
    example: str = ""


_BUILTIN = (
    Variable("customer.first_name", "The visitor's first name, if known.", "Anna"),
    Variable("customer.name", "The visitor's full name, if known.", "Anna Nowak"),
    Variable("operator.name", "The name of the operator who sends the reply.", "Joanna Kowalska"),
    Variable("operator.title", "The operator's position, for the signature.", "Customer Advisor"),
    Variable("company.name", "The company's name, for the signature.", "Acme Ltd"),
    Variable("order.id", "The order number the conversation is about.", "100234"),
    Variable("order.status", "The order's current status, as the shop names it.", "shipped"),
    Variable("product.name", "The product's name as the shop lists it.", "Aero 2 kettle"),
    Variable(
        "restock.date",
        "When the product is available again, as a phrase that fits the sentence "
        'without a preposition before it ("on 12 May", "next Tuesday", "in a week").',
        "on 12 May",
    ),
    Variable("wait.minutes", "Expected wait in whole minutes, digits only.", "5"),
    Variable("team.name", "The team the chat is handed to, by its name.", "Billing"),
    Variable(
        "followup.time",
        'When the operator will be back with an answer, as a phrase ("within 15 minutes", "by 3 pm").',
        "within 15 minutes",
    ),
    Variable(
        "policy.name",
        "The rule being applied, in a few words; shown in quotation marks.",
        "No pets",
    ),
    Variable(
        "policy.reason",
        'Why the rule exists, as a clause that can follow "because".',
        "it keeps other guests safe and comfortable",
    ),
    Variable(
        "alternative",
        'What we can do instead, as a phrase that follows "I can".',
        "find a pet-friendly hotel nearby for you",
    ),
    Variable("feature.name", "The feature the visitor asked for; shown in quotation marks.", "dark mode"),
)

VARIABLES: dict[str, Variable] = {v.name: v for v in _BUILTIN}


def register(variable: Variable) -> None:
    """Add (or redescribe) a variable for every library validated from now on."""
    if not _NAME_RE.match(variable.name):
        raise ValueError(f"invalid variable name {variable.name!r}: use dotted lower_case words")
    VARIABLES[variable.name] = variable


def is_valid_name(name: str) -> bool:
    """Whether ``name`` is spelled like a variable (known or not)."""
    return bool(_NAME_RE.match(name))


def iter_placeholders(text: str) -> Iterator[re.Match[str]]:
    """Every ``{...}`` in ``text``, known variable or not, in order."""
    return BRACES_RE.finditer(text)


def variables_in(text: str, known: Mapping[str, Variable] | None = None) -> list[str]:
    """Names of the known variables ``text`` uses, in order of first use."""
    registry = VARIABLES if known is None else known
    seen: dict[str, None] = {}
    for match in BRACES_RE.finditer(text):
        name = match.group(1)
        if name in registry:
            seen.setdefault(name, None)
    return list(seen)
