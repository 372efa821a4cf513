"""Benchmarks run by `make bench`: cold start, DynamoDB round trips and capacity, authorizer overhead.

Each prints a table and writes `.patron/bench/<name>.json`; docs/benchmarks.md explains what they measure.
"""
