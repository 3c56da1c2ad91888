"""Rule jobs: act on items chosen by a condition (Action), run programs (Command, exec=)."""
