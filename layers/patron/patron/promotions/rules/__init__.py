"""The condition language of campaigns: text -> typed tree -> checked -> Python closures (docs/rules.md).

    from patron.promotions.rules import compile_condition
    condition = compile_condition('session.cartItemTotal >= 100 and count(items, item.category == "shoes") >= 2')
    condition(facts)  # -> bool

`Compiler` compiles a whole ruleset with one attribute schema (and shares identical aggregates); the module-level
`compile_*` functions are one-off conveniences. `parse`, `to_json`/`from_json` and `to_text` convert between the
text a campaign file holds and the JSON tree the management API exchanges. `requirements` reads index keys.
"""

from patron.promotions.rules.checker import Checked, check
from patron.promotions.rules.compiler import (
    Compiler,
    Condition,
    ItemCondition,
    ItemValue,
    Value,
    compile_condition,
    compile_item_condition,
    compile_item_value,
    compile_value,
)
from patron.promotions.rules.errors import (
    MAX_DEPTH,
    MAX_NODES,
    MAX_SOURCE_LENGTH,
    RuleError,
    RuleIssue,
    RuleLocation,
)
from patron.promotions.rules.facts import (
    CouponFacts,
    EventFacts,
    Facts,
    ItemFacts,
    LoyaltyFacts,
    ProfileFacts,
    ReferralFacts,
    SessionFacts,
    TimeFacts,
)
from patron.promotions.rules.index_keys import Requirements, requirements, requirements_of_any
from patron.promotions.rules.interpreter import Interpreter
from patron.promotions.rules.parser import parse
from patron.promotions.rules.schema import (
    BOOLEAN,
    DATE,
    DYNAMIC,
    NUMBER,
    STRING,
    TIME,
    AttributeSchema,
    Kind,
    Type,
    list_of,
)
from patron.promotions.rules.text import to_text
from patron.promotions.rules.tree import Node, from_json, to_json, without_spans

__all__ = [
    "BOOLEAN",
    "DATE",
    "DYNAMIC",
    "MAX_DEPTH",
    "MAX_NODES",
    "MAX_SOURCE_LENGTH",
    "NUMBER",
    "STRING",
    "TIME",
    "AttributeSchema",
    "Checked",
    "Compiler",
    "Condition",
    "CouponFacts",
    "EventFacts",
    "Facts",
    "Interpreter",
    "ItemCondition",
    "ItemFacts",
    "ItemValue",
    "Kind",
    "LoyaltyFacts",
    "Node",
    "ProfileFacts",
    "ReferralFacts",
    "Requirements",
    "RuleError",
    "RuleIssue",
    "RuleLocation",
    "SessionFacts",
    "TimeFacts",
    "Type",
    "Value",
    "check",
    "compile_condition",
    "compile_item_condition",
    "compile_item_value",
    "compile_value",
    "from_json",
    "list_of",
    "parse",
    "requirements",
    "requirements_of_any",
    "to_json",
    "to_text",
    "without_spans",
]
