#!/usr/bin/env bash
# System packages some tests need (SoftHSM2 for the PKCS#11 key provider, Chromium for the
# browser tests, Node.js for the NL API Design Rules linter, docker-compose to resolve
# docker-compose.yml without a Docker engine). Under CI=true they are installed; elsewhere
# those tests skip with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${CI:-}" != "true" ]; then
  exit 0
fi
need=()
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)
command -v docker-compose >/dev/null 2>&1 || need+=(docker-compose)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages for the test suite: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Spectral with the Logius ruleset (tests/standards): the versions pinned in the lock file.
# --ignore-scripts: no package of the linter needs an install script (one would only report usage).
lock=tools/spectral/package-lock.json
installed=tools/spectral/node_modules/.package-lock.json
if [ ! -x tools/spectral/node_modules/.bin/spectral ] || [ "$lock" -nt "$installed" ]; then
  echo "Installing the NL API Design Rules linter (Spectral) into tools/spectral/node_modules"
  npm ci --prefix tools/spectral --ignore-scripts --no-audit --no-fund --loglevel=error
fi
