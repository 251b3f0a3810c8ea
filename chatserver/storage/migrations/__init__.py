"""Alembic environment; a package so setuptools ships it with its templates."""
