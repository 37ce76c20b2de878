# alertrouter service image. Build: docker build -t alertrouter .   (docker-compose.yml uses it)
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# The locked runtime first (its own layer), then the package: edits to src/ reuse the lock layer.
WORKDIR /build
COPY requirements/runtime.txt ./requirements/
RUN pip install --require-hashes --no-deps -r requirements/runtime.txt
COPY pyproject.toml README.md ./
COPY src ./src
# The locked setuptools builds it (no isolated build env fetching an unpinned one).
RUN pip install --no-deps --no-build-isolation . && rm -rf /build

# An unprivileged user owning /data, the state volume (a new named volume copies this ownership).
RUN useradd --system --uid 10001 --user-group --home-dir /data --shell /usr/sbin/nologin alertrouter \
    && mkdir -p /data /etc/alertrouter \
    && chown alertrouter:alertrouter /data

# The shipped policy as the default; mount your own routing file over it.
COPY config/alertrouter.yml /etc/alertrouter/alertrouter.yml

ENV ALERTROUTER_STATE_URL=sqlite:////data/alertrouter.db \
    ALERTROUTER_LOG_FORMAT=json
VOLUME ["/data"]
WORKDIR /data
USER alertrouter
EXPOSE 8080

# The slim image has no curl: Python's urllib raises on any non-2xx answer, failing the check.
HEALTHCHECK --interval=10s --timeout=3s --start-period=15s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/-/ready', timeout=2)"]

ENTRYPOINT ["alertrouter"]
CMD ["serve", "--listen", "0.0.0.0:8080", "--config", "/etc/alertrouter/alertrouter.yml"]
