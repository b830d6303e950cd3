"""Building blocks for API tests: photos, reports, staff actions."""
import io

from PIL import Image

IN_HQ_1_1 = {"lat": 30.57, "lng": 114.27}      # compound 花桥社区一区, community 花桥社区 (gz-demo-hq-1)
IN_MY_1 = {"lat": 30.57, "lng": 114.31}        # community 民意社区 (gz-demo-my-1), another street
OUTSIDE = {"lat": 39.90, "lng": 116.40}


def jpeg_bytes(color=(200, 80, 40), size=(64, 48)):
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "JPEG")
    return buf.getvalue()


def upload(client, headers, data=None, filename="photo.jpg"):
    res = client.post("/api/v1/media", headers=headers,
                      data={"file": (io.BytesIO(data if data is not None else jpeg_bytes()), filename)},
                      content_type="multipart/form-data")
    return res


def photo(client, headers):
    res = upload(client, headers)
    assert res.status_code == 201, res.json
    return res.json["id"]


def report(client, headers, place=IN_HQ_1_1, category="streetlight", description="路灯不亮了，晚上很黑", key=None, **extra):
    body = {"category": category, "description": description, **place, **extra}
    h = dict(headers)
    if key:
        h["Idempotency-Key"] = key
    return client.post("/api/v1/tickets", json=body, headers=h)


def act(client, headers, ticket_id, action, **body):
    return client.post(f"/api/v1/tickets/{ticket_id}/{action}", json=body, headers=headers)


def user_id(client, headers):
    return client.get("/api/v1/me", headers=headers).json["id"]


def get_photo(client, url):
    """A photo's bytes as a phone gets them: from the service, or, with photos in a bucket,
    from the presigned address the service redirects to (fetched over HTTP)."""
    from types import SimpleNamespace

    import requests

    res = client.get(url)
    if res.status_code != 302:
        return res
    assert "max-age" in res.headers["Cache-Control"]
    got = requests.get(res.headers["Location"], timeout=10)
    return SimpleNamespace(status_code=got.status_code, data=got.content,
                           content_type=got.headers.get("Content-Type", ""), headers=got.headers)
