#!/bin/sh
# Install everything runk needs to build, test and run on Debian 12.
# Idempotent: apt-get skips what is already installed.
set -eu

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (apt-get needs it)" >&2
	exit 1
fi

export DEBIAN_FRONTEND=noninteractive

# Build toolchain and libraries runk links.
build="gcc make autoconf automake libtool pkg-config clang clang-format
	libyajl-dev libseccomp-dev libcap-dev libsystemd-dev libcgroup-dev
	libinih-dev libmicrohttpd-dev libmnl-dev go-md2man"
# Tests and tools the test suite drives.
tests="bats bats-assert bats-support jq busybox-static cpio kmod
	util-linux procps iproute2 runc
	podman conmon catatonit containerd crun python3 bsdutils coreutils
	curl prometheus
	python3-grpcio python3-protobuf protobuf-compiler"
# Runtime: the VMM.
runtime="qemu-system-x86"
# podman's bridge networks, through both backends (bats/podman-network.bats).
network="containernetworking-plugins netavark iptables"
# runk's guest kernel (guest/kernel-runk.sh): the source and what `make vmlinux`
# runs (bc for timeconst.h, bison/flex for Kconfig, libelf for objtool).
kernel="linux-source-6.1 bc bison flex libelf-dev xz-utils"

missing=""
for pkg in $build $tests $runtime $network $kernel; do
	if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $pkg"
	fi
done

if [ -z "$missing" ]; then
	echo "install-deps.sh: everything is installed"
	exit 0
fi

apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing
