"""Views: consumers of turn events (terminal, notebook display, live widgets)."""
