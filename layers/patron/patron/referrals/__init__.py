"""Referrals: the referral and what a friend has been referred in (model), whether a presented referral code may be
used in a session (validation), generated referral codes (codes, over `patron.coupons.codes`) and the ledgers-table
items that hold referrals, their counters and the friends they referred (items; docs/data-model.md, "LedgersTable —
referrals")."""
