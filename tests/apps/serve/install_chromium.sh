#!/usr/bin/env bash
# Debian's Chromium for the browser test (tests/serve/test_browser.py drives it
# with Playwright at /usr/bin/chromium). Only the distribution's package: never
# `playwright install`, which downloads a browser from elsewhere.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=''
if [ "$(id -u)" -ne 0 ]; then
  SUDO='sudo'
fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium
