"""The reads database (SQLAlchemy 2, Alembic); the only package that imports SQLAlchemy."""
