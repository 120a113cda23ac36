# The portal's image: one image for the web (gunicorn), the Celery worker and beat.

# Front-end: GOV.UK Frontend, Sass and plotly.js's basic bundle from the npm registry; the CSS is built here, not committed.
FROM node:20-slim AS assets
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY static/scss static/scss
RUN npm run build:css

FROM python:3.11-slim AS base

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 MPLCONFIGDIR=/tmp/matplotlib \
    DJANGO_SETTINGS_MODULE=kentforum.settings.production

WORKDIR /app
# The board pack's PDFs: WeasyPrint lays text out with Pango, in the DejaVu fonts.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system portal && useradd --system --gid portal --home /app portal

COPY pyproject.toml README.md ./
COPY kentforum ./kentforum
COPY ambitions ./ambitions
COPY partnerships ./partnerships
COPY performance ./performance
COPY localities ./localities
RUN pip install .

COPY . .
COPY --from=assets /build/static/build static/build
COPY --from=assets /build/node_modules/govuk-frontend/dist/govuk node_modules/govuk-frontend/dist/govuk
COPY --from=assets /build/node_modules/plotly.js-basic-dist-min node_modules/plotly.js-basic-dist-min
# collectstatic needs settings but no real secrets or services.
RUN SECRET_KEY=build-only ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.sqlite3 REDIS_URL=redis://build:6379/0 \
    python manage.py collectstatic --noinput

USER portal
EXPOSE 8000
CMD ["gunicorn", "kentforum.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
