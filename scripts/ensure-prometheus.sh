#!/usr/bin/env bash
# ensure-prometheus.sh: make sure Prometheus (Debian's package) is installed, for the dashboard test.
#
# We only want the binary, /usr/bin/prometheus: the test runs its own Prometheus in a temp dir. So the
# package is installed without recommends and with invoke-rc.d told not to start services, and any
# prometheus service the package started anyway is stopped and disabled. Quiet and idempotent when
# the binary is there. Not root: prints how to install it and fails under CI=true (the test must not
# skip there) or only warns locally (the dashboard test will then skip).
set -euo pipefail

stop_service() {
  # A system Prometheus would take port 9090 and scrape on its own; the tests want none of it.
  if pgrep -u prometheus -x prometheus >/dev/null 2>&1; then
    echo "ensure-prometheus: stopping the prometheus service the package started" >&2
    if command -v systemctl >/dev/null 2>&1 && [[ -d /run/systemd/system ]]; then
      systemctl disable --now prometheus.service >/dev/null 2>&1 || true
    else
      service prometheus stop >/dev/null 2>&1 || true
      command -v update-rc.d >/dev/null 2>&1 && update-rc.d prometheus disable >/dev/null 2>&1 || true
    fi
  fi
}

if [[ -x /usr/bin/prometheus ]]; then
  stop_service
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  echo "ensure-prometheus: installing prometheus with apt-get (binary only, no service start)" >&2
  export DEBIAN_FRONTEND=noninteractive
  made_policy=""
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    # Exit code 101 tells invoke-rc.d "action forbidden": the package's postinst starts nothing.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=yes
  fi
  trap 'if [[ -n "$made_policy" ]]; then rm -f /usr/sbin/policy-rc.d; fi' EXIT
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  stop_service
  [[ -x /usr/bin/prometheus ]] || { echo "ensure-prometheus: ERROR: /usr/bin/prometheus still missing after apt-get" >&2; exit 1; }
  echo "ensure-prometheus: $(/usr/bin/prometheus --version 2>&1 | head -n 1)" >&2
  exit 0
fi

msg="prometheus is not installed; install it with: sudo apt-get install -y --no-install-recommends prometheus"
if [[ "${CI:-}" == "true" ]]; then
  echo "ensure-prometheus: ERROR: $msg" >&2
  exit 1
fi
echo "ensure-prometheus: warning: $msg (the Grafana dashboard test will be skipped)" >&2
exit 0
