import pytest

from server.units.geo import (
    BoundaryError,
    distance_m,
    gcj02_to_wgs84,
    outside_china,
    parse_boundary,
    wgs84_to_gcj02,
)

WUHAN = (30.5928, 114.3055)


def test_gcj02_offset_is_hundreds_of_metres_in_china():
    glat, glng = wgs84_to_gcj02(*WUHAN)
    shift = distance_m(*WUHAN, glat, glng)
    assert 100 < shift < 1000


def test_gcj02_round_trip_within_a_centimetre():
    for lat, lng in [WUHAN, (39.9087, 116.3975), (22.5431, 114.0579), (45.75, 126.63)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lat, lng))
        assert distance_m(lat, lng, *back) < 0.01


def test_no_offset_outside_china():
    assert outside_china(48.8566, 2.3522)
    assert wgs84_to_gcj02(48.8566, 2.3522) == (48.8566, 2.3522)


def _square(x0, y0, size):
    return {"type": "Polygon", "coordinates": [[[x0, y0], [x0 + size, y0], [x0 + size, y0 + size], [x0, y0 + size], [x0, y0]]]}


def test_valid_polygon_accepted():
    geom, geojson = parse_boundary(_square(114.0, 30.0, 0.01))
    assert geom.area > 0 and geojson["type"] == "Polygon"


@pytest.mark.parametrize("geometry", [
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},  # bow tie
    {"type": "Point", "coordinates": [114, 30]},
    {"type": "Polygon", "coordinates": [[[200, 0], [201, 0], [201, 1], [200, 0]]]},
    {"type": "Polygon", "coordinates": [[[0, 0], [1, 1]]]},
    {"type": "Polygon", "coordinates": "nope"},
    {"type": "Polygon", "coordinates": [[["a", 0], [1, 1], [1, 0], ["a", 0]]]},
    "{not json",
])
def test_bad_boundaries_rejected(geometry):
    with pytest.raises(BoundaryError):
        parse_boundary(geometry)


def test_gcj02_boundary_stored_as_wgs84():
    gcj = _square(114.3, 30.59, 0.01)
    _, stored = parse_boundary(gcj, coord="gcj02")
    lng, lat = stored["coordinates"][0][0]
    assert distance_m(lat, lng, 30.59, 114.3) > 100
