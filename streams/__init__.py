"""Thin Faust glue: topics, tables and batch stages wired to the pure detection logic."""
