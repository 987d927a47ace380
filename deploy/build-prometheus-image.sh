#!/usr/bin/env bash
# Builds zk-rs-prometheus:latest, the Prometheus of deploy/compose.yaml,
# from the host's Debian `prometheus` package (apt-get install prometheus):
# there is no registry to pull prom/prometheus from. The image holds the
# binary, the C library it links, and deploy/prometheus.yml + alerts.yml.
#
#   deploy/build-prometheus-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-zk-rs-prometheus:latest}
bin=$(command -v prometheus) || { echo "needs prometheus (apt-get install prometheus)" >&2; exit 1; }

ctx=target/prometheus-image-context
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/bin" "$ctx/rootfs/etc/prometheus" "$ctx/state/prometheus"
cp "$bin" "$ctx/rootfs/bin/prometheus"
# The dynamic loader and the libraries the binary names, at their paths.
ldd "$bin" | awk '/=> \// {print $3} /^[ \t]*\// {print $1}' | while read -r lib; do
  mkdir -p "$ctx/rootfs$(dirname "$lib")"
  cp -L "$lib" "$ctx/rootfs$lib"
done
cp deploy/prometheus.yml deploy/alerts.yml "$ctx/rootfs/etc/prometheus/"
echo 'nobody:x:65534:65534:nobody:/prometheus:/bin/prometheus' > "$ctx/rootfs/etc/passwd"
cat > "$ctx/Dockerfile" <<'DOCKERFILE'
FROM scratch
COPY rootfs/ /
COPY --chown=65534:65534 state/ /
USER 65534:65534
EXPOSE 9090
VOLUME ["/prometheus"]
ENTRYPOINT ["/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus", "--web.listen-address=0.0.0.0:9090"]
DOCKERFILE
docker build -q -t "$image" "$ctx" >/dev/null
echo "built $image ($(docker image inspect -f '{{.Size}}' "$image" | awk '{printf "%.1f MB", $1 / 1e6}'))"
