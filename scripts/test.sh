#!/usr/bin/env bash
# The README's test command: installs what the tests need on a fresh machine, then runs them all.
#
#   bash scripts/test.sh            # every test (what CI runs)
#   bash scripts/test.sh -- NAME    # extra arguments go to `cargo test --workspace`
#
# What the tests need beyond Rust, and which tests need it:
#   - Debian's Chromium (apt): the HTML export's tests in tests/cli/transcript.rs open pages in a
#     real headless browser.
#   - python3 with venv (apt) and the package registry (PyPI): tests/cli/sdk.rs makes a venv with
#     the official Python SDK (anthropic 2.12.0) and runs it against `flightrec serve`.
#   - zsh and fish (apt): tests/cli/shell.rs checks and runs the completion scripts in them.
#   - script(1) (apt: bsdutils): tests/cli/manners.rs runs the pager and colour on a pseudo-terminal.
#   - Debian's Prometheus (apt: prometheus, which brings promtool): tests/cli/metrics.rs checks
#     `watch --metrics-addr` with `promtool check metrics` and a real Prometheus scraping it.
# Everything else is hermetic (loopback only). For quick iteration with nothing installed:
#   FLIGHTREC_TEST_TIER=hermetic cargo test --workspace
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
[[ $(id -u) -eq 0 ]] || SUDO=sudo
need=()
[[ -x /usr/bin/chromium || -x /usr/bin/chromium-browser ]] || need+=(chromium)
command -v python3 >/dev/null || need+=(python3)
probe=$(mktemp -d)
python3 -m venv --without-pip "$probe/v" >/dev/null 2>&1 && python3 -c 'import ensurepip' 2>/dev/null \
    || need+=(python3-venv)
rm -rf "$probe"
for shell in zsh fish; do command -v "$shell" >/dev/null || need+=("$shell"); done
command -v script >/dev/null || need+=(bsdutils)
if ((${#need[@]})); then
    echo "== apt: ${need[*]} (for the Chromium, Python SDK, shell completion and pseudo-terminal tests)"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}"
fi
if [[ ! -x /usr/bin/prometheus || ! -x /usr/bin/promtool ]]; then
    echo "== apt: prometheus (for the Prometheus tests)"
    $SUDO apt-get update -qq
    # Without recommends (the node exporter and its services). The package's own service is not
    # needed, the test starts a Prometheus of its own, and where services cannot start it is left.
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends prometheus
fi

# Every tier runs here, whatever the caller's shell says.
unset FLIGHTREC_TEST_TIER
echo "== cargo test --locked --workspace $*"
exec cargo test --locked --workspace "$@"
