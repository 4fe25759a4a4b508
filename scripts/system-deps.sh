#!/usr/bin/env bash
# System packages some tests need (SoftHSM2 for the PKCS#11 key provider, Chromium for the
# browser tests). Under CI=true they are installed; elsewhere those tests skip with a message.
set -euo pipefail
if [ "${CI:-}" != "true" ]; then
  exit 0
fi
need=()
command -v softhsm2-util >/dev/null 2>&1 || need+=(softhsm2)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
command -v pg_dump >/dev/null 2>&1 || need+=(postgresql-client)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing system packages for the test suite: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
