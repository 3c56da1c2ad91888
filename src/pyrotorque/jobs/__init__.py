"""Jobs the daemon schedules: the base class, the loader, and the built-in jobs."""
