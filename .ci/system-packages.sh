#!/usr/bin/env bash
# Installs the system packages the test suite needs, from Debian's archive:
#   - Mesa's software Vulkan driver (lavapipe) at version 25, from the release's backports (Dawn needs it for WebGPU)
#   - a PostgreSQL server (tests run the same queries against PGlite and a real server)
#   - Chromium, driven by playwright-core for the web page's end-to-end tests
#   - clang and lld, to check that the committed SIMD kernels (workers/kernels/simd/kernels.wasm) are the build of
#     their source
#   - Slurm (slurmctld, slurmd, its client commands) and munge, for the one-node cluster of scripts/slurm-test-cluster.sh
# The backports entry is derived from the machine's own configured Debian source (whatever mirror it names).
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
codename=$(. /etc/os-release && echo "${VERSION_CODENAME:?no VERSION_CODENAME in /etc/os-release}")
backports="$codename-backports"

# The URI of the configured entry that serves the release itself: deb822 (.sources) or one-line (.list) format.
release_uri() {
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [[ -f $f ]] || continue
    awk -v suite="$codename" '
      BEGIN { RS = ""; FS = "\n" }
      {
        uri = ""; ok = 0; deb = 0
        for (i = 1; i <= NF; i++) {
          if ($i ~ /^Types:/ && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
          if ($i ~ /^URIs:/) { split($i, u, /[ \t]+/); uri = u[2] }
          if ($i ~ /^Suites:/) { n = split($i, s, /[ \t]+/); for (j = 2; j <= n; j++) if (s[j] == suite) ok = 1 }
        }
        if (deb && ok && uri != "") { print uri; exit }
      }' "$f"
  done
  # A machine with only deb822 sources has neither file; cat's failure must not end the script (pipefail).
  { cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null || true; } \
    | sed -E 's/\[[^]]*\]//' | awk -v suite="$codename" '$1 == "deb" && $3 == suite { print $2; exit }'
}

if ! grep -rqs "$backports" /etc/apt/sources.list /etc/apt/sources.list.d/; then
  uri=$(release_uri | head -n 1)
  if [[ -z $uri ]]; then
    echo "system-packages: no configured Debian source serves '$codename' (looked in /etc/apt/sources.list and /etc/apt/sources.list.d/); add one, or add $backports by hand" >&2
    exit 1
  fi
  cat > /etc/apt/sources.list.d/backports.sources <<SRC
Types: deb
URIs: $uri
Suites: $backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
fi
apt-get update -qq
apt-get install -y -qq -t "$backports" mesa-vulkan-drivers libvulkan1 >/dev/null
apt-get install -y -qq postgresql chromium fonts-dejavu-core fonts-wqy-microhei clang-14 lld-14 slurmctld slurmd slurm-client munge >/dev/null
