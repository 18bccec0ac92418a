"""Cone-beam (perspective) geometry: magnification that depends on depth.

A point at distance ``d`` from the mid-plane towards the X-ray source is magnified by
``SID / (SOD - d)`` instead of ``SID / SOD`` (SID: source-image distance, SOD:
source-object distance of the mid-plane, SID/SOD the isocentre magnification). Each part
is split into thin slabs along the beam; each slab is scaled about the principal point by
``r = SOD / (SOD - d)`` relative to the mid-plane, where PixelSpacing is defined.

What is exact and what is approximate:

* For in-plane motion (rotation about the projection axis plus in-plane translation) a
  point at depth ``d`` moves in the image by ``S_r o T o S_r^-1`` where ``T`` is the
  mid-plane motion: exactly what the renderer does per slab. The truth transform ``T`` is
  exact for points in the mid-plane (the corners are defined there).
* Within one slab the magnification is taken as constant (the slab's mean depth): with
  slabs of a few mm the residual is a small fraction of a pixel at typical distances.
* Points off the mid-plane do not move by ``T``: their image motion is ``T`` with its
  translation scaled by ``r``, so the vertebra's outline is a superposition of slightly
  different motions, as in a real fluoroscope. Trackers scored against ``T`` see this
  (realistic) model error.
"""

from __future__ import annotations

from dynaspine.phantom._anatomy import Anatomy, Layer


def to_cone(anatomy: Anatomy, *, magnification: float, sid_mm: float, slabs: int) -> list[str]:
    """Turn a parallel-beam anatomy into a cone-beam one in place; return notes for the truth.

    Layers with ``thickness_mm > 0`` (analytic parts) are split into ``slabs`` equal copies
    spread across that thickness; layers with a ``depth_mm`` (CT slabs) keep it.
    """
    sod = sid_mm / magnification
    for group in [
        anatomy.background,
        anatomy.rigid_background,
        *(p.layers for p in anatomy.parts.values()),
        anatomy.gas,
    ]:
        split: list[Layer] = []
        for layer in group:
            if layer.thickness_mm > 0 and slabs > 1:
                for i in range(slabs):
                    depth = layer.depth_mm + ((i + 0.5) / slabs - 0.5) * layer.thickness_mm
                    split.append(
                        Layer(
                            image=layer.image / slabs,
                            x0=layer.x0,
                            y0=layer.y0,
                            depth_mm=depth,
                            replicate=layer.replicate,
                        )
                    )
            else:
                split.append(layer)
        for layer in split:
            layer.scale = sod / (sod - layer.depth_mm)
        group[:] = split
    return [
        f"cone beam: SID {sid_mm:g} mm, isocentre magnification {magnification:g} "
        f"(SOD {sod:.1f} mm), {slabs} slabs per part; PixelSpacing and the truth refer to "
        "the spine's mid-plane; points off that plane are magnified by SOD/(SOD - depth)",
    ]
