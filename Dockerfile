# The portal's image: one image for the web (gunicorn), the Celery worker and beat.
FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    DJANGO_SETTINGS_MODULE=kentforum.settings.production

WORKDIR /app
RUN groupadd --system portal && useradd --system --gid portal --home /app portal

COPY pyproject.toml README.md ./
COPY kentforum ./kentforum
COPY ambitions ./ambitions
COPY partnerships ./partnerships
COPY performance ./performance
COPY localities ./localities
RUN pip install .

COPY . .
# collectstatic needs settings but no real secrets or services.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput

USER portal
EXPOSE 8000
CMD ["gunicorn", "kentforum.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
