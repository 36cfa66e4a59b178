"""The official EN 16931 business rules for CII (CEN/TC 434's schematron, compiled to XSLT by its
authors), run with Saxon-HE: what an accountant's or a tax office's validator checks."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

from lxml import etree

XSLT = Path(__file__).parents[2] / "fixtures" / "en16931" / "EN16931-CII-validation.xslt"
SVRL = {"svrl": "http://purl.oclc.org/dsdl/svrl"}


@lru_cache(maxsize=1)
def _validator() -> tuple[Any, Any]:
    from saxonche import PySaxonProcessor  # Saxon-HE runs the XSLT 2.0 the CEN artefacts are written in

    processor = PySaxonProcessor(license=False)
    executable = processor.new_xslt30_processor().compile_stylesheet(stylesheet_file=str(XSLT))
    return processor, executable


def failed_rules(xml: bytes) -> list[str]:
    """Every failed assert (fatal and warning) as "BR-CO-13 fatal: <the rule's text>"; [] when the
    document passes all of them."""
    processor, executable = _validator()
    report = etree.fromstring(
        executable.transform_to_string(xdm_node=processor.parse_xml(xml_text=xml.decode())).encode()
    )
    fired = report.xpath("//svrl:fired-rule", namespaces=SVRL)
    assert fired, "the rules did not run on this document"
    return [
        f"{f.get('id')} {f.get('flag')}: {' '.join(f.findtext('svrl:text', namespaces=SVRL).split())}"
        for f in report.xpath("//svrl:failed-assert | //svrl:successful-report", namespaces=SVRL)
    ]


def rule_count() -> int:
    """How many rules (asserts) the CEN artefact checks."""
    return len(
        set(
            etree.parse(str(XSLT)).xpath(
                "//svrl:failed-assert/xsl:attribute[@name='id']/text()",
                namespaces=SVRL | {"xsl": "http://www.w3.org/1999/XSL/Transform"},
            )
        )
    )
