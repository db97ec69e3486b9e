# The emulator as a service container: `docker build -t vendor-emulator .` then
#   docker run --rm -p 127.0.0.1:8080:8080 -e VENDOR_EMULATOR_ADMIN_TOKEN=change-me vendor-emulator
# It listens beyond loopback, so the /__mock__ controls need the admin token (from the environment).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- build: wheel from the source tree, installed into /opt/venv with the pinned dependencies
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml constraints.txt README.md LICENSE CHANGELOG.md ./
COPY mockserver/ mockserver/
COPY contracts/ contracts/
COPY schemas/ schemas/
COPY fixtures/ fixtures/
COPY docker/install.sh docker/install.sh
RUN sh docker/install.sh /src /opt/venv /tmp/build

# ---- runtime: the virtualenv only; no compiler, no pip (the base image's is removed), no source tree
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="vendor-emulator" \
      org.opencontainers.image.description="Emulator of the phone-number APIs of Famulor, Butter AI, Contactship and Mindhunters" \
      org.opencontainers.image.licenses="MIT"
RUN (python -m pip uninstall --yes --quiet --root-user-action=ignore pip setuptools wheel 2>/dev/null || true) \
    && ! python -m pip --version 2>/dev/null \
    && groupadd --system --gid 10001 emulator \
    && useradd --system --uid 10001 --gid emulator --no-create-home --shell /usr/sbin/nologin emulator
COPY --from=build /opt/venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
USER 10001:10001
EXPOSE 8080
# Liveness (/__mock__/live), not readiness (/__mock__/health): a replica cut off from its Redis still
# answers vendor requests from memory, and restarting it would not bring Redis back (docs/state-faults.md).
HEALTHCHECK --interval=5s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/__mock__/live', timeout=2)"]
ENTRYPOINT ["vendor-emulator"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
