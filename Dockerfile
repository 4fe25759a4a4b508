# Production image of the gateway (and the reference adapters, same distribution).
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
RUN useradd --system --uid 10001 --home /srv/ketenpoort ketenpoort
WORKDIR /srv/ketenpoort
COPY pyproject.toml README.md ./
COPY gateway ./gateway
COPY audit ./audit
COPY adapters ./adapters
COPY policies ./policies
RUN pip install ".[hsm]"
USER ketenpoort
EXPOSE 8000
ENTRYPOINT ["ketenpoort"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4", "--no-demo"]
