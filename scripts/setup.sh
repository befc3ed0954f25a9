#!/usr/bin/env bash
# Installs everything nvmove needs to build, test and run on Debian 12.
# Run as root (or with sudo). Safe to run again.
set -euo pipefail
if [ "$(id -u)" -ne 0 ]; then
  exec sudo -E "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends \
  build-essential g++ clang libclang-rt-14-dev meson ninja-build pkg-config git \
  libdpdk-dev dpdk dpdk-dev libpcap-dev libbpf-dev libnuma-dev \
  libgtest-dev libspdlog-dev libfmt-dev libyaml-cpp-dev nlohmann-json3-dev \
  libssl-dev libsqlite3-dev libreadline-dev libcli11-dev libmicrohttpd-dev prometheus \
  python3 python3-scapy python3-yaml python3-prometheus-client tshark \
  iproute2 ethtool procps psmisc valgrind \
  exabgp bird2 etcd-server etcd-client libcurl4-openssl-dev openssl
echo "nvmove: dependencies installed"
