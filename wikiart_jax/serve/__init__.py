"""Web demo: describe an artwork, attention rollout, human ratings (`config.mode=serve`)."""
