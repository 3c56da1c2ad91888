"""Rule jobs: act on items chosen by a condition (the Action job) and its verbs."""
