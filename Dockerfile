# syntax=docker/dockerfile:1
# Production image of the gateway (and the reference adapters, same distribution).
# Base images are pinned to a patch release; pin them by digest too where your registry
# policy asks for it (docs/operations.md). Dependencies come from requirements.lock, with
# hashes: the image installs exactly what CI tested.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /build
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY audit ./audit
COPY adapters ./adapters
COPY policies ./policies
RUN pip wheel --no-deps --wheel-dir /wheels .

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system --gid 10001 ketenpoort \
 && useradd --system --uid 10001 --gid 10001 --home-dir /srv/ketenpoort --no-create-home \
      --shell /usr/sbin/nologin ketenpoort
COPY deploy/image-layout.sh /usr/local/lib/ketenpoort/image-layout.sh
RUN sh /usr/local/lib/ketenpoort/image-layout.sh /
# The application lives in a root-owned virtual environment: the gateway cannot change its
# own code. Third-party packages first (exact versions and hashes), then the wheel alone.
COPY requirements.lock /tmp/requirements.lock
RUN python -m venv /opt/ketenpoort \
 && /opt/ketenpoort/bin/pip install --require-hashes --no-deps -r /tmp/requirements.lock \
 && rm /tmp/requirements.lock
COPY --from=build /wheels /tmp/wheels
RUN /opt/ketenpoort/bin/pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
ENV PATH=/opt/ketenpoort/bin:$PATH \
    HOME=/srv/ketenpoort \
    KETENPOORT_DATA_DIR=/srv/ketenpoort/data \
    KETENPOORT_JWKS_DIR=/srv/ketenpoort/jwks \
    KETENPOORT_LOG_FORMAT=json
USER 10001:10001
WORKDIR /srv/ketenpoort
EXPOSE 8000 9100
# Ready, not only alive: 503 while the database, keys, policy or audit log is unavailable.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(0 if urllib.request.urlopen('http://127.0.0.1:8000/v1/health/ready', timeout=2).status == 200 else 1)"]
ENTRYPOINT ["ketenpoort"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2", "--no-demo"]
