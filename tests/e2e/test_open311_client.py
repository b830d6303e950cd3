"""A real Open311 client (the PyPI package `georeport`) against a live gunicorn.

The server runs with production settings, two workers and a Redis of its own (where the
per-key limit is counted, so the workers share it); the key is made with the command
line (`flask open311 keys create`). `georeport` reads (services, definitions,
requests) but has no call to file one, so requests are filed with a plain form POST,
as the spec describes, and then read back through the client in JSON and in XML.
"""
import os
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import redis
import requests

from tests.e2e.live import Gunicorn, flask, free_port, production_env

georeport = pytest.importorskip("georeport")

pytestmark = pytest.mark.e2e


REDIS_SERVER = "/usr/bin/redis-server"


@pytest.fixture(scope="module")
def redis_url():
    if not os.path.exists(REDIS_SERVER):
        pytest.skip("redis-server is not installed")
    port = free_port()
    proc = subprocess.Popen([REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly",
                             "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    deadline = time.monotonic() + 10
    while True:
        try:
            redis.Redis.from_url(url).ping()
            break
        except redis.ConnectionError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="module")
def live(fake_wechat, tmp_path_factory, redis_url):
    env = production_env(fake_wechat, tmp_path_factory.mktemp("open311"), OPEN311_RATE_LIMIT="20/minute")
    env["REDIS_URL"] = redis_url
    env.pop("RATELIMIT_STORAGE_URI")  # the limits shared through Redis, as deployed
    flask(env, "db", "upgrade", "heads")
    flask(env, "seed-demo")
    suffix = os.urandom(3).hex()
    keys = {name: flask(env, "open311", "keys", "create", f"{name}-{suffix}") for name in ("civic", "burst")}
    with Gunicorn(env) as server:
        yield server.base, keys
    # Keys travel in query strings and forms; neither reaches the log.
    assert not any(key in server.output for key in keys.values())
    assert '" 500 ' not in server.output


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
    url = base + "/open311/v2/services.json"

    def call(_):
        return requests.get(url, params={"api_key": keys["burst"]}, timeout=10)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(call, range(30)))
    codes = sorted(r.status_code for r in answers)
    assert codes.count(200) == 20 and codes.count(429) == 10, codes
    limited = next(r for r in answers if r.status_code == 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert limited.json()[0]["code"] == 429 and "api_key" in limited.json()[0]["description"]
