"""A visitor's rating of a conversation: stars 1-5, an optional NPS answer 0-10 and a comment."""

from __future__ import annotations

MAX_COMMENT = 2000


def rating_problem(score: object, nps: object, comment: object) -> str | None:
    """What is wrong with a rating, or None: the same rule for the REST route and the widget's frame."""
    if isinstance(score, bool) or not isinstance(score, int) or not 1 <= score <= 5:
        return "'score' must be a whole number from 1 to 5"
    if nps is not None and (isinstance(nps, bool) or not isinstance(nps, int) or not 0 <= nps <= 10):
        return "'nps' must be a whole number from 0 to 10"
    if comment is not None and (not isinstance(comment, str) or len(comment) > MAX_COMMENT):
        return f"'comment' must be text of at most {MAX_COMMENT} characters"
    return None
