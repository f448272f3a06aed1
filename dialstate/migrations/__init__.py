"""Alembic migrations of dialstate's tables, shipped in the package.

`dialstate db upgrade` applies them (see `dialstate.models.schema`); an empty database
is created by the engine itself and stamped at the newest revision.
"""
