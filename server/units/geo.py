"""Coordinates: GCJ-02 (what Chinese maps and wx.getLocation type gcj02 use) <-> WGS-84
(what is stored), and GeoJSON boundaries checked with shapely. Pure functions."""
from __future__ import annotations

import json
import math

from shapely.geometry import shape
from shapely.validation import explain_validity

# Krasovsky 1940 ellipsoid, as used by the GCJ-02 transform.
_A = 6378245.0
_EE = 0.00669342162296594323

COORD_SYSTEMS = ("wgs84", "gcj02")


def outside_china(lat: float, lng: float) -> bool:
    return not (72.004 <= lng <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _transform_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _transform_lng(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def _offset(lat: float, lng: float) -> tuple[float, float]:
    dlat = _transform_lat(lng - 105.0, lat - 35.0)
    dlng = _transform_lng(lng - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    dlng = (dlng * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlng


def wgs84_to_gcj02(lat: float, lng: float) -> tuple[float, float]:
    if outside_china(lat, lng):
        return lat, lng
    dlat, dlng = _offset(lat, lng)
    return lat + dlat, lng + dlng


def gcj02_to_wgs84(lat: float, lng: float) -> tuple[float, float]:
    """Inverse by fixed-point iteration: better than 1e-7 degrees (about 1 cm)."""
    if outside_china(lat, lng):
        return lat, lng
    wlat, wlng = lat, lng
    for _ in range(30):
        glat, glng = wgs84_to_gcj02(wlat, wlng)
        dlat, dlng = glat - lat, glng - lng
        wlat, wlng = wlat - dlat, wlng - dlng
        if abs(dlat) < 1e-9 and abs(dlng) < 1e-9:
            break
    return wlat, wlng


def to_wgs84(lat: float, lng: float, coord: str) -> tuple[float, float]:
    return gcj02_to_wgs84(lat, lng) if coord == "gcj02" else (lat, lng)


def from_wgs84(lat: float, lng: float, coord: str) -> tuple[float, float]:
    return wgs84_to_gcj02(lat, lng) if coord == "gcj02" else (lat, lng)


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Haversine distance in metres."""
    r = 6371008.8
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(h))


class BoundaryError(ValueError):
    """A boundary that is not a valid GeoJSON Polygon or MultiPolygon in WGS-84 degrees."""


def _walk_positions(coords, depth: int = 0):
    if not isinstance(coords, list) or not coords or depth > 3:
        raise BoundaryError("坐标格式不正确")
    if isinstance(coords[0], (int, float)):
        yield coords
    else:
        for item in coords:
            yield from _walk_positions(item, depth + 1)


def parse_boundary(geometry: dict | str, coord: str = "wgs84"):
    """Check a GeoJSON geometry and return it as (shapely geometry, GeoJSON dict) in WGS-84."""
    if isinstance(geometry, str):
        try:
            geometry = json.loads(geometry)
        except ValueError:
            raise BoundaryError("边界不是合法的 GeoJSON") from None
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise BoundaryError("边界必须是 GeoJSON Polygon 或 MultiPolygon")
    coords = geometry.get("coordinates")
    try:
        for pos in _walk_positions(coords):
            if len(pos) < 2 or not all(isinstance(v, (int, float)) for v in pos[:2]):
                raise BoundaryError("坐标格式不正确")
            lng, lat = pos[0], pos[1]
            if not (-180 <= lng <= 180 and -90 <= lat <= 90):
                raise BoundaryError(f"坐标超出范围: {lng}, {lat}")
    except (TypeError, IndexError):
        raise BoundaryError("坐标格式不正确") from None
    if coord == "gcj02":
        geometry = {"type": geometry["type"], "coordinates": _convert(coords, gcj02_to_wgs84)}
    try:
        geom = shape(geometry)
    except Exception as exc:  # shapely raises several types for malformed rings
        raise BoundaryError(f"边界无法解析: {exc}") from None
    if geom.is_empty:
        raise BoundaryError("边界为空")
    if not geom.is_valid:
        raise BoundaryError(f"边界不合法（如自相交）: {explain_validity(geom)}")
    return geom, {"type": geometry["type"], "coordinates": coords if coord != "gcj02" else geometry["coordinates"]}


def _convert(coords, fn):
    if coords and isinstance(coords[0], (int, float)):
        lat, lng = fn(coords[1], coords[0])
        return [round(lng, 8), round(lat, 8)]
    return [_convert(c, fn) for c in coords]
