"""IAM policies as a Lambda REQUEST authorizer returns them to API Gateway."""

from __future__ import annotations

from typing import Any

from patron.auth.authenticator import Grant


def _statement(effect: str, method_arn: str) -> dict[str, Any]:
    return {"Action": "execute-api:Invoke", "Effect": effect, "Resource": method_arn}


def allow(grant: Grant, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": f"key/{grant.key_id}",
        "policyDocument": {"Version": "2012-10-17", "Statement": [_statement("Allow", method_arn)]},
        # API Gateway hands these to the integration as requestContext.authorizer.* (strings).
        "context": {
            "applicationId": str(grant.application_id),
            "scope": grant.scope.value,
            "keyId": grant.key_id,
        },
        # The usage plan's API key value: API Gateway throttles per application with it.
        "usageIdentifierKey": grant.usage_key,
    }


def deny(grant: Grant, method_arn: str) -> dict[str, Any]:
    return {
        "principalId": f"key/{grant.key_id}",
        "policyDocument": {"Version": "2012-10-17", "Statement": [_statement("Deny", method_arn)]},
        "context": {
            "applicationId": str(grant.application_id),
            "scope": grant.scope.value,
            "keyId": grant.key_id,
        },
    }
