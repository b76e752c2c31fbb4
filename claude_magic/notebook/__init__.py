"""Reading the notebook: the prompt, `$x` interpolation and value summaries, attachments, failed cells and tracebacks, the running cell, code cells."""
