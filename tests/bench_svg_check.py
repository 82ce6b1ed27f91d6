#!/usr/bin/env python3
"""bench_svg_check.py CSV SVG: lrelu-bench's plot (--svg) is well-formed SVG whose points
are the CSV's figures: one point per CSV row, in the panel of its operation and dtype,
carrying its implementation, n and GB/s as the CSV writes them, and drawn where the
panel's axes put that n and GB/s; the device's copy (base_device_copy) is among the
lines. Exits 0 when all of that holds, 1 otherwise (each failure printed)."""
import csv
import math
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"


def main(csv_path, svg_path):
    failures = []
    root = ET.parse(svg_path).getroot()  # raises on anything not well-formed
    if root.tag != SVG + "svg":
        failures.append("the root element is %s, not svg" % root.tag)
    with open(csv_path, newline="") as f:
        rows = list(csv.DictReader(f))
    panels = {(g.get("data-op"), g.get("data-dtype")): g for g in root.iter(SVG + "g")}
    points = {}
    for key, g in panels.items():
        for c in g.iter(SVG + "circle"):
            points.setdefault(key + (c.get("data-impl"), c.get("data-n")), []).append((c, g))
    if sum(len(v) for v in points.values()) != len(rows):
        failures.append("%d points for %d CSV rows" % (sum(len(v) for v in points.values()),
                                                      len(rows)))
    for r in rows:
        key = (r["op"], r["dtype"], r["impl"], r["n_elements"])
        found = points.get(key, [])
        if len(found) != 1:
            failures.append("%d points for the row %s" % (len(found), key))
            continue
        c, g = found[0]
        if c.get("data-gbs") != r["gb_per_s"]:
            failures.append("%s: the point says %s GB/s, the CSV %s" % (key, c.get("data-gbs"),
                                                                        r["gb_per_s"]))
        x0, y0 = float(g.get("data-x0")), float(g.get("data-y0"))
        w, h = float(g.get("data-width")), float(g.get("data-height"))
        lo, hi = float(g.get("data-log2-min")), float(g.get("data-log2-max"))
        top = float(g.get("data-gbs-max"))
        want_x = x0 + w * (math.log2(int(r["n_elements"])) - lo) / (hi - lo)
        want_y = y0 + h - h * float(r["gb_per_s"]) / top
        # the CSV rounds GB/s to 0.001: allow that much, plus the SVG's 0.01 px
        slack_y = h * 0.0006 / top + 0.011
        if abs(float(c.get("cx")) - want_x) > 0.011 or abs(float(c.get("cy")) - want_y) > slack_y:
            failures.append("%s: drawn at (%s, %s), its figures put it at (%.2f, %.2f)" %
                            (key, c.get("cx"), c.get("cy"), want_x, want_y))
    copies = [p for p in root.iter(SVG + "polyline") if p.get("data-impl") == "base_device_copy"]
    if not copies:
        failures.append("no line for the device's copy (base_device_copy)")
    for f in failures[:20]:
        print("FAIL", f)
    print("%d CSV rows, %d panels, %d failures" % (len(rows), len(panels), len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    sys.exit(main(sys.argv[1], sys.argv[2]))
