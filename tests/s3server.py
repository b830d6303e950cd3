"""A real S3-speaking server for the photo store's tests: moto's server (`moto_server`, from
the test extra) started as its own process on a free port of 127.0.0.1. The service talks to
it over HTTP through boto3, as it would to COS, OSS or MinIO; nothing in boto3 is patched.
"""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
import uuid

import requests

from tests.e2e.live import free_port

BIN = os.path.dirname(sys.executable)
ACCESS_KEY, SECRET_KEY, REGION = "gongzhi-test", "gongzhi-test-secret", "us-east-1"


class S3Server:
    def __init__(self) -> None:
        self.url = ""
        self.proc: subprocess.Popen | None = None

    def start(self) -> "S3Server":
        port = free_port()
        self.log = tempfile.TemporaryFile()
        env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY)
        self.proc = subprocess.Popen([os.path.join(BIN, "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                                     env=env, stdout=self.log, stderr=subprocess.STDOUT)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                requests.get(self.url + "/moto-api/", timeout=1)
                return self
            except requests.RequestException:
                time.sleep(0.2)
        self.stop()
        self.log.seek(0)
        raise RuntimeError("moto_server did not start: " + self.log.read().decode(errors="replace")[-2000:])

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def settings(self, bucket: str | None = None, **extra) -> dict:
        """The service's S3_* settings for a bucket on this server (created here, empty)."""
        bucket = bucket or f"gongzhi-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=bucket)
        return {"MEDIA_STORAGE": "s3", "S3_ENDPOINT_URL": self.url, "S3_BUCKET": bucket, "S3_REGION": REGION,
                "S3_ACCESS_KEY_ID": ACCESS_KEY, "S3_SECRET_ACCESS_KEY": SECRET_KEY, "S3_ADDRESSING_STYLE": "path",
                **extra}

    def client(self):
        import boto3

        return boto3.session.Session().client("s3", endpoint_url=self.url, region_name=REGION,
                                              aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY)

    def keys(self, bucket: str) -> list[str]:
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return sorted(item["Key"] for page in pages for item in page.get("Contents", []))
