# Not built on Parley's development machine (it has no Docker): see docs/deploy.md.
FROM python:3.11-slim

# PostgreSQL's client tools: `parley backup` and `parley restore` on PostgreSQL.
RUN apt-get update \
    && apt-get install -y --no-install-recommends postgresql-client \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml README.md ./
COPY parley ./parley
RUN pip install --no-cache-dir . && useradd --create-home parley \
    && mkdir -p /data && chown parley /data

USER parley
ENV PARLEY_DATA_DIR=/data
VOLUME /data
EXPOSE 8000 8001
HEALTHCHECK CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "parley migrate --noinput && parley serve --host 0.0.0.0 --port 8000"]
