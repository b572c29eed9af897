#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian's archive:
#   - Mesa's software Vulkan driver (lavapipe) at version 25, from bookworm-backports (Dawn needs it for WebGPU)
#   - a PostgreSQL server (tests run the same queries against PGlite and a real server)
#   - Chromium, driven by playwright-core for the web page's end-to-end tests
#   - clang and lld, to check that the committed SIMD kernels (workers/kernels/simd/kernels.wasm) are the build of
#     their source
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
if ! grep -rqs bookworm-backports /etc/apt/sources.list /etc/apt/sources.list.d/; then
  cat > /etc/apt/sources.list.d/backports.sources <<'SRC'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers libvulkan1 >/dev/null
apt-get install -y -qq postgresql chromium fonts-dejavu-core fonts-wqy-microhei clang-14 lld-14 >/dev/null
