# Shared by scripts/demo and scripts/test: installs what the project needs, idempotently.
# shellcheck shell=bash

APT_PACKAGES=(libwebsockets-dev libcurl4-openssl-dev libsqlite3-dev libxml2-dev pkg-config openssl python3 python3-pip python3-venv)
MOTO_VENV="${XDG_CACHE_HOME:-$HOME/.cache}/convops/moto-venv"

as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        echo "need root to run: $*" >&2; return 1; fi
}

ensure_apt_packages() {
    local missing=()
    for p in "${APT_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "==> installing ${missing[*]}"
        as_root apt-get update -qq
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

# Finds moto_server, installing moto[server] with pip (or into a venv where the system
# Python refuses global installs); exports CONVOPS_MOTO_SERVER with its path.
ensure_moto() {
    local found
    found=$(command -v moto_server || true)
    if [ -z "$found" ] && [ -x "$MOTO_VENV/bin/moto_server" ]; then found="$MOTO_VENV/bin/moto_server"; fi
    if [ -z "$found" ]; then
        echo "==> installing moto[server]"
        if python3 -m pip install --quiet 'moto[server]' 2>/dev/null && command -v moto_server >/dev/null; then
            found=$(command -v moto_server)
        else
            python3 -m venv "$MOTO_VENV"
            "$MOTO_VENV/bin/pip" install --quiet 'moto[server]'
            found="$MOTO_VENV/bin/moto_server"
        fi
    fi
    export CONVOPS_MOTO_SERVER="$found"
    # The seed script needs boto3, which moto brings along; use moto's own Python.
    local python
    python=$(head -n1 "$found" | sed -n 's/^#!//p')
    if [ -n "$python" ] && [ -x "$python" ] && "$python" -c 'import boto3' 2>/dev/null; then
        export CONVOPS_PYTHON="$python"
    else
        export CONVOPS_PYTHON=python3
    fi
}

# cfn-lint checks deploy/convops-role.yaml in the tests; exports CONVOPS_CFN_LINT with its path.
ensure_cfn_lint() {
    local found
    found=$(command -v cfn-lint || true)
    if [ -z "$found" ] && [ -x "$MOTO_VENV/bin/cfn-lint" ]; then found="$MOTO_VENV/bin/cfn-lint"; fi
    if [ -z "$found" ]; then
        echo "==> installing cfn-lint"
        if python3 -m pip install --quiet cfn-lint 2>/dev/null && command -v cfn-lint >/dev/null; then
            found=$(command -v cfn-lint)
        else
            [ -x "$MOTO_VENV/bin/pip" ] || python3 -m venv "$MOTO_VENV"
            "$MOTO_VENV/bin/pip" install --quiet cfn-lint
            found="$MOTO_VENV/bin/cfn-lint"
        fi
    fi
    export CONVOPS_CFN_LINT="$found"
}

ensure_swift() {
    if ! command -v swift >/dev/null; then
        echo "swift is not on PATH: install the Swift 6 toolchain (swift.org) and try again" >&2
        exit 1
    fi
}

ensure_all() {
    ensure_swift
    ensure_apt_packages
    ensure_moto
    ensure_cfn_lint
}
