"""The Core tables the repository's statements use, looked up once by table name.

The model classes register their tables in one SQLModel metadata on import;
Core statements on these Table objects are what the hot path needs and keep
the rest uniform.
"""

from __future__ import annotations

from sqlalchemy import Table

from .. import models

_tables = models.Team.metadata.tables  # the one metadata every model class registers in

TEAM: Table = _tables["team"]
OPERATOR: Table = _tables["operator"]
OPERATOR_TEAM: Table = _tables["operator_team"]
CUSTOMER: Table = _tables["customer"]
VISITOR: Table = _tables["visitor"]
CONVERSATION: Table = _tables["conversation"]
EVENT: Table = _tables["conversation_event"]
MESSAGE: Table = _tables["message"]
SETTING: Table = _tables["setting"]
REPLY: Table = _tables["reply"]
REPLY_VERSION: Table = _tables["reply_version"]
REPLY_USAGE: Table = _tables["reply_usage"]
PROFILE: Table = _tables["customer_profile"]
SHOP_ORDER: Table = _tables["shop_order"]
CASE: Table = _tables["customer_case"]
VISITOR_PAGE: Table = _tables["visitor_page"]
RATING: Table = _tables["conversation_rating"]
WAIT_PROMISE: Table = _tables["wait_promise"]
SITUATION_FEEDBACK: Table = _tables["situation_feedback"]
SITUATION_MODEL: Table = _tables["situation_model"]
WHISPER: Table = _tables["whisper"]
VISITOR_BLOCK: Table = _tables["visitor_block"]
ABUSE_AUDIT: Table = _tables["abuse_audit"]
