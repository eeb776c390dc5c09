# syntax=docker/dockerfile:1
# churnwatch worker image: `docker build -t churnwatch:0.3.0.dev0 .`
# Build stage: our wheel plus a wheelhouse of binary wheels for every dependency.
# Final stage: slim Python, no compiler, no pip cache, no source tree, a non-root user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
# churnwatch/models, /signals and /streams are symlinks to these top-level folders
COPY churnwatch ./churnwatch
COPY models ./models
COPY signals ./signals
COPY streams ./streams
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /dist . \
 && pip wheel --no-cache-dir --only-binary=:all: --wheel-dir /wheels /dist/churnwatch-*.whl

FROM ${PYTHON_IMAGE}
ARG UID=10001
RUN groupadd --system --gid ${UID} churnwatch \
 && useradd --system --uid ${UID} --gid churnwatch --no-create-home \
      --home-dir /var/lib/churnwatch --shell /usr/sbin/nologin churnwatch \
 && mkdir -p /var/lib/churnwatch && chown ${UID}:${UID} /var/lib/churnwatch
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir --no-index --find-links=/wheels /wheels/churnwatch-*.whl
# Faust's data directory (table offsets; the states with table_store "rocksdb") lives in
# the volume, so the root filesystem can be read-only; metrics and health listen on all
# interfaces inside the container.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHURNWATCH_RUNTIME__DATA_DIR=/var/lib/churnwatch \
    CHURNWATCH_RUNTIME__METRICS_HOST=0.0.0.0 \
    CHURNWATCH_RUNTIME__METRICS_PORT=9108
VOLUME ["/var/lib/churnwatch"]
WORKDIR /var/lib/churnwatch
USER ${UID}:${UID}
EXPOSE 9108
# /livez: the event loop runs and no agent crashed (readiness is the orchestrator's job)
HEALTHCHECK --interval=30s --timeout=5s --start-period=120s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/livez' % os.environ.get('CHURNWATCH_RUNTIME__METRICS_PORT', '9108'), timeout=4)"]
ENTRYPOINT ["churnwatch"]
CMD ["worker"]
