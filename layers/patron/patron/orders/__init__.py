"""Orders: the customer's purchases, their statuses, and the statistics they feed."""
