# The codesearch image: docker-compose.yml runs the web service (gunicorn) and the indexing worker
# (manage.py run_worker) from it. Models and indexes are not in the image: they live in the
# indexes/ volume.

# --- build: wheels for everything, compiled here (Annoy builds from source with g++) ---------------
FROM python:3.11-slim-bookworm AS build
RUN apt-get update && apt-get install -y --no-install-recommends g++ && rm -rf /var/lib/apt/lists/*
COPY requirements.txt /build/requirements.txt
# torch's CPU wheel comes from PyTorch's own index: PyPI's default Linux wheel bundles CUDA (gigabytes).
RUN pip wheel --no-cache-dir --wheel-dir /wheels --extra-index-url https://download.pytorch.org/whl/cpu \
        -r /build/requirements.txt

# --- runtime ---------------------------------------------------------------------------------------
FROM python:3.11-slim-bookworm
# git: the worker clones the repositories it indexes.
RUN apt-get update && apt-get install -y --no-install-recommends git && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 codesearch
COPY --from=build /wheels /wheels
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir --no-index --find-links /wheels -r /tmp/requirements.txt && rm -rf /wheels

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=0 \
    CODESEARCH_INDEXES=/app/indexes \
    WANDB_MODE=offline
WORKDIR /app
COPY . .
# Hashed, compressed static files for WhiteNoise; the key only lets settings load during the build.
RUN DJANGO_SECRET_KEY=collectstatic-only python manage.py collectstatic --noinput --verbosity 0 \
    && mkdir -p /app/indexes && chown codesearch /app/indexes
USER codesearch
EXPOSE 8000
# Workers: WEB_CONCURRENCY (gunicorn reads it; cores + 1), each loading the models once and sharing
# the memory-mapped Annoy files with the others through the page cache. gthread workers keep
# connections alive; one thread each, as requests are CPU-bound and threads would queue behind the
# GIL (benchmarks/load_search.py measured both).
CMD ["gunicorn", "codesearch.wsgi", "--bind", "0.0.0.0:8000", "--worker-class", "gthread", "--threads", "1", \
     "--access-logfile", "-", "--max-requests", "10000", "--max-requests-jitter", "1000", "--timeout", "60"]
