"""Plain data and rules under everything else: conversations, events, results, settings, usage and prices, errors, redaction, model names, structured output."""
