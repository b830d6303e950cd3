"""A real Open311 client (the PyPI package `georeport`) against a live gunicorn.

The server runs with production settings and two workers; the key is made with the
command line (`flask open311 keys create`). `georeport` reads (services, definitions,
requests) but has no call to file one, so requests are filed with a plain form POST,
as the spec describes, and then read back through the client in JSON and in XML.
"""
import os
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

georeport = pytest.importorskip("georeport")

pytestmark = pytest.mark.e2e


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def live(fake_wechat, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("open311")
    port = _free_port()
    env = dict(
        os.environ,
        APP_ENV="production",
        SECRET_KEY="e2e-open311-" + "s" * 40,
        FIELD_ENCRYPTION_KEYS="ZTJlLWZpZWxkLWtleS1mb3ItdGVzdHMtb25seS0xMjM=",
        DATABASE_URL=os.environ.get("TEST_DATABASE_URL") or f"sqlite:///{tmp}/open311.sqlite3",
        DEV_LOGIN="0",
        REDIS_URL="",
        WECHAT_APP_ID=fake_wechat.appid,
        WECHAT_APP_SECRET=fake_wechat.secret,
        WECHAT_API_BASE=fake_wechat.base_url,
        MEDIA_ROOT=str(tmp / "media"),
        FLASK_APP="server.wsgi",
        GUNICORN_WORKERS="2",
        OPEN311_RATE_LIMIT="20",
    )
    flask = os.path.join(os.path.dirname(sys.executable), "flask")

    def cli(*args):
        return subprocess.run([flask, *args], env=env, check=True, capture_output=True, text=True).stdout.strip()

    cli("db", "upgrade", "heads")
    cli("seed-demo")
    suffix = os.urandom(3).hex()
    keys = {name: cli("open311", "keys", "create", f"{name}-{suffix}") for name in ("civic", "burst")}
    proc = subprocess.Popen(
        [os.path.join(os.path.dirname(sys.executable), "gunicorn"), "-c", "deploy/gunicorn.conf.py",
         "--bind", f"127.0.0.1:{port}", "server.wsgi:app"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(base + "/healthz", timeout=1).status_code == 200:
                break
        except requests.RequestException:
            time.sleep(0.2)
    else:
        proc.kill()
        pytest.fail("gunicorn did not start: " + proc.stdout.read().decode(errors="replace")[-2000:])
    yield base, keys
    proc.terminate()
    output = proc.communicate(timeout=30)[0].decode(errors="replace")
    # Keys travel in query strings and forms; neither reaches the log.
    assert not any(key in output for key in keys.values())
    assert '" 500 ' not in output


def _file(base, key, **fields):
    data = {"api_key": key, "service_code": "streetlight", "lat": "30.57", "long": "114.27",
            "description": "路灯不亮了，晚上很黑", **fields}
    res = requests.post(base + "/open311/v2/requests.json", data=data, timeout=10)
    assert res.status_code == 201, res.text
    return res.json()[0]["service_request_id"]


def test_georeport_lists_services_and_requests(live):
    base, keys = live
    light = _file(base, keys["civic"])
    water = _file(base, keys["civic"], service_code="water_supply", description="整栋楼停水了")

    client = georeport.GeoReport(base + "/open311/v2", api_key=keys["civic"])
    services = client.get_service_list()
    assert {"service_code": "streetlight", "service_name": "路灯损坏"}.items() <= \
        next(s for s in services if s["service_code"] == "streetlight").items()
    definition = client.get_service_definition("streetlight")
    assert definition["service_code"] == "streetlight"
    assert [a["code"] for a in definition["attributes"]] == ["time_limit", "handled_by", "anonymous"]

    listed = client.get_service_requests()
    ids = [r["service_request_id"] for r in listed]
    assert light in ids and water in ids and ids.index(water) < ids.index(light)   # newest first
    waters = client.get_service_requests(service_code="water_supply")
    assert water in [r["service_request_id"] for r in waters] and {r["service_code"] for r in waters} == {"water_supply"}
    closed = client.get_service_requests(status="closed")
    assert light not in [r["service_request_id"] for r in closed] and all(r["status"] == "closed" for r in closed)
    both = client.get_service_requests(service_request_id=f"{light},{water}")
    assert sorted(r["service_request_id"] for r in both) == sorted([light, water])
    one = client.get_service_request(light)
    assert one["status"] == "open" and one["agency_responsible"] == "花桥社区" and one["service_name"] == "路灯损坏"
    assert one["requested_datetime"].endswith("+08:00")

    xml_client = georeport.GeoReport(base + "/open311/v2", output_format="xml")
    xml_services = xml_client.get_service_list()
    assert any(s["service_code"] == "streetlight" and s["service_name"] == "路灯损坏" for s in xml_services)
    xml_one = xml_client.get_service_request(light)
    assert xml_one["service_request_id"] == light and xml_one["status"] == "open"
    assert xml_client.get_service_definition("streetlight")["service_code"] == "streetlight"

    with pytest.raises(requests.HTTPError) as err:
        client.get_service_request("999999999")
    assert err.value.response.status_code == 404
    assert err.value.response.json() == [{"code": 404, "description": "service_request_id '999999999' was not found"}]


def test_rate_limit_is_shared_by_the_workers(live):
    base, keys = live
    if time.time() % 60 > 55:                      # keep the burst inside one fixed window
        time.sleep(61 - time.time() % 60)
    url = base + "/open311/v2/services.json"

    def call(_):
        return requests.get(url, params={"api_key": keys["burst"]}, timeout=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(30)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 20 and codes.count(429) == 10, codes
    limited = next(r for r in answers if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.json()[0]["code"] == 429
