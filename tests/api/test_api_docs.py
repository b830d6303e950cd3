"""/api/docs works where no CDN can be reached: Swagger UI's files come from the service."""
import re


def test_the_docs_page_loads_its_files_from_the_service_and_names_no_other_host(client):
    page = client.get("/api/docs")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert not re.search(r"(https?:)?//", html), html  # no absolute or scheme-relative address
    assets = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert len(assets) == 3, assets  # the stylesheet, the preset and the bundle
    for asset in assets:
        res = client.get(asset)
        assert res.status_code == 200 and len(res.get_data()) > 10_000, asset
        assert res.mimetype in ("text/css", "text/javascript", "application/javascript"), (asset, res.mimetype)
    assert '"validatorUrl": null' in html  # Swagger UI would otherwise send the document to its online validator
