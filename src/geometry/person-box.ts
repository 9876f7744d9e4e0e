// Person box rules: (center, scale) from labelled joints (LSP/LSPET, custom) or from a bounding box (COCO, custom).
// Convention of the original code: the crop is a square of side 200 * scale px around center.

/** Margin around the joints' box: the crop side is 1.25 x the box's longer side. */
export const JOINTS_BOX_MARGIN = 1.25;
/** Margin around a tight person bounding box (COCO); the same 1.25 as SimpleBaseline/HRNet's padding. */
export const BBOX_MARGIN = 1.25;

export interface PersonBox {
  center: [number, number];
  scale: number;
}

/**
 * Box of the labelled joints: center = the centre of their axis-aligned bounding box; scale = longer side x
 * `margin` / 200. With margin 1.25 the 200*scale crop leaves 12.5% of the person's extent free on each side
 * of the long axis: the joints' box runs from head top to ankles, and the feet, hands and hair that stick
 * out past the joints fit in that margin. Returns null when fewer than two labelled joints span a box of at
 * least 1 px (the caller reports the record).
 * `joints` is [K*2] (x, y); `visible` is [K] (1 = labelled).
 */
export function boxFromJoints(joints: ArrayLike<number>, visible: ArrayLike<number>, margin = JOINTS_BOX_MARGIN): PersonBox | null {
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  let count = 0;
  for (let k = 0; k < visible.length; k++) {
    if (visible[k] !== 1) continue;
    const x = joints[2 * k]!;
    const y = joints[2 * k + 1]!;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
    count++;
  }
  const side = Math.max(x1 - x0, y1 - y0);
  if (count < 2 || !(side >= 1)) return null;
  return { center: [(x0 + x1) / 2, (y0 + y1) / 2], scale: (side * margin) / 200 };
}

/**
 * Box from a bounding box [x, y, width, height] (COCO's bbox: top-left corner and size, pixels):
 * center = the box's centre (x + w/2, y + h/2); scale = max(w, h) x `margin` / 200, i.e. the square crop
 * holds the whole box with 12.5% free on each side of its longer axis (for margin 1.25).
 */
export function boxFromBbox(bbox: readonly [number, number, number, number], margin = BBOX_MARGIN): PersonBox {
  const [x, y, w, h] = bbox;
  return { center: [x + w / 2, y + h / 2], scale: (Math.max(w, h) * margin) / 200 };
}
