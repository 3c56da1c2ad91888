"""Rule jobs: act on items by condition (the Action job and its verbs) and the Command job."""
