"""The domain: models, vocabularies, rules and errors; no I/O."""
