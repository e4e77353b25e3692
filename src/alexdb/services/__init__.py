"""Storage-neutral services: position rules, valuation, seeding, cost."""
