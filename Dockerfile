# The Mắt Thần image: Ray's image plus the matthan package. One image for every pod of
# the Helm chart (helm/matthan): the Ray head, the camera workers, the front door
# (`matthan serve --address ...`) and the deploy Job (`matthan deploy --address ...`).
#
#   docker build -t REGISTRY/matthan:0.1.0 .
#   docker push REGISTRY/matthan:0.1.0
#
# The base image's Ray and Python are the ones the package is tested with: the Ray
# version is the chart's ray.version (RayCluster rayVersion) and satisfies pyproject's
# `ray` requirement; py311 is the Python of mypy's python_version (tests/deploy/test_dockerfile.py).
# Nothing secret is baked in: the config, tokens and certificates come from Kubernetes
# ConfigMaps and Secrets at run time, and models from a volume or a derived image.
FROM rayproject/ray:2.60.0-py311

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# Ray's image runs as `ray` (uid 1000, group users 100); its Python environment is the
# user's own, so the package installs without root.
USER 1000:100
WORKDIR /home/ray/build
COPY --chown=1000:100 pyproject.toml README.md ./
COPY --chown=1000:100 cluster ./cluster
# A regular (not editable) install: the package lives in site-packages, the build
# directory goes. Ray is already there in the version the base image names.
RUN pip install . && cd /home/ray && rm -rf /home/ray/build && matthan --help > /dev/null
WORKDIR /home/ray

# gRPC, web console, /metrics of the front door.
EXPOSE 50051 8480 9480

# The front door beside a running Ray cluster, with a mounted config. The chart sets
# every pod's command itself (KubeRay sets the Ray pods' `ray start`).
CMD ["matthan", "serve", "--config", "/etc/matthan/config.yaml", "--address", "auto"]
