#!/usr/bin/env bash
# Builds the static zk-server and zkcli (glibc, +crt-static: they run on
# nothing) and the image zk-rs:latest from deploy/Dockerfile. No base image
# is pulled: the image holds our two binaries and a few files.
#
#   deploy/build-image.sh            build, tag zk-rs:latest
#   IMAGE=zk-rs:dev deploy/build-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-zk-rs:latest}
target=x86_64-unknown-linux-gnu

# --target keeps build scripts and proc macros dynamic (they run here) while
# the binaries link statically; no debug info is made and symbols are
# stripped (the image is smaller, the build quicker).
RUSTFLAGS='-C target-feature=+crt-static' CARGO_PROFILE_RELEASE_STRIP=symbols \
  CARGO_PROFILE_RELEASE_DEBUG=false \
  cargo build --release --locked --target "$target" -p zk-server -p zk-cli

ctx=target/image-context
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc" "$ctx/state/conf" "$ctx/state/data" \
  "$ctx/state/datalog" "$ctx/state/tmp"
chmod 1777 "$ctx/state/tmp"
cp "target/$target/release/zk-server" "target/$target/release/zkcli" "$ctx/rootfs/bin/"
# The official image's docs run `zkCli.sh -server ...` in the container.
ln -s zkcli "$ctx/rootfs/bin/zkCli.sh"
echo 'zookeeper:x:1000:1000:zookeeper:/data:/bin/zk-server' > "$ctx/rootfs/etc/passwd"
echo 'zookeeper:x:1000:' > "$ctx/rootfs/etc/group"
cp deploy/Dockerfile "$ctx/"
docker build -q -t "$image" "$ctx" >/dev/null
echo "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1 / 1e6}'))"
