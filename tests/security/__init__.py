"""Attacker-style tests: a hostile Claude (the local server), planted project files, hostile pages and stores."""
