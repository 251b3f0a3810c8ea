"""The customer beside the chat: who they are, what they bought, how to talk to them.

- ``typology``: the communication types an operator can note, each with its handling hint.
- ``segments``: the A/B/C/D segment from the customer's order value (Pareto).
- ``context``: the context shown beside the chat, built the same way for the ``assigned``
  frame, the REST routes and ``bench/history.py``.
- ``ratings``: what a visitor's rating of a conversation may be.
- ``pages``: which of the pages the widget reports (the page the visitor is on) are kept.
"""
