"""Deploying Mắt Thần onto a Ray cluster it did not start (Kubernetes with KubeRay):
the camera-set rollout of `matthan deploy` (`rollout.py`, Ray-free), the config a pod
composes from its ConfigMap and its token Secret (`compose.py`), and the generator of
the Helm chart's copies of `monitoring/` (`chart_files.py`)."""
