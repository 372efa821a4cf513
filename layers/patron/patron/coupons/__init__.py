"""Coupons: the coupon and its code rule (model), whether a presented coupon may be used (validation), generated
codes (codes) and the ledgers-table items that hold coupons, their counters and reservations (items;
docs/data-model.md, "LedgersTable — coupons")."""
