"""Patron's local runtime (development only, never shipped in a Lambda): the same template, handlers and
state machines in one process, with DynamoDB Local as the database and moto for SQS, S3 and Step Functions."""
