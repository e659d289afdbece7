"""The reads database (SQLAlchemy 2, Alembic); the only package that imports SQLAlchemy.

Public: :class:`~mrecist_reader.storage.repository.ReadRepository` and the plain types of
:mod:`mrecist_reader.storage.audit` and :mod:`mrecist_reader.storage.errors`.
"""
