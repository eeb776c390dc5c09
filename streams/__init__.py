"""Thin Faust glue: topics, tables and agents wired to the pure detection logic."""
