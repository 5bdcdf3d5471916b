#!/bin/sh
# Regenerate the build system.  tap-driver.sh is not added by automake on its
# own, so take it from the installed automake.
set -e
cd "$(dirname "$0")"
mkdir -p build-aux m4
driver=$(ls /usr/share/automake-*/tap-driver.sh 2>/dev/null | tail -n 1)
if [ -z "$driver" ]; then
	echo "autogen.sh: tap-driver.sh not found: install the Debian package automake" >&2
	exit 1
fi
cp -f "$driver" build-aux/tap-driver.sh
autoreconf -fi
