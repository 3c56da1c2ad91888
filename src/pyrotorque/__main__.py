"""Run pyrotorque as ``python -m pyrotorque``."""

from pyrotorque.cli import main

raise SystemExit(main())
