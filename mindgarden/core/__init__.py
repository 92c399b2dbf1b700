"""Pure domain layer: thought tree, persona states, sessions, export. Never imports Qt."""
