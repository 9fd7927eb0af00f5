# Redis for a Herald cluster (engine = redis), on the same Debian base as
# Herald's image, with Debian's redis-server: no registry image needed.
#
#   docker build -f docker/redis.Dockerfile -t herald-redis docker
#
# Herald keeps nothing in Redis that must survive a Redis restart (history
# and presence are rebuilt; clients are told to recover), so persistence is
# off. Bind and protection settings suit a private network between the
# nodes; do not publish its port.
FROM debian:bookworm-slim

RUN set -eu; \
    export DEBIAN_FRONTEND=noninteractive; \
    apt-get update -qq; \
    apt-get install -y -qq --no-install-recommends redis-server; \
    apt-get clean; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin

EXPOSE 6379
USER redis
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=5s --retries=3 \
    CMD ["redis-cli", "-p", "6379", "ping"]
ENTRYPOINT ["redis-server", "--bind", "0.0.0.0", "--protected-mode", "no", \
            "--save", "", "--appendonly", "no", "--dir", "/tmp"]
