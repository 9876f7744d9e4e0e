// Drawing a pose over its image in Node: the SVG of src/api/overlay-svg.ts composited with sharp, written as PNG.
import sharp from 'sharp';
import type { RasterImage } from '../geometry/affine.js';
import type { Skeleton } from '../data/skeletons/types.js';
import type { Pose } from './pose.js';
import { overlaySvg } from './overlay-svg.js';

export { confidenceColour, overlaySvg } from './overlay-svg.js';

/** PNG bytes of the image with the pose drawn over it. */
export async function renderOverlay(image: RasterImage, pose: Pose, skeleton: Skeleton): Promise<Buffer> {
  const { width, height } = image;
  const bytes = image.data instanceof Float32Array
    ? Uint8Array.from(image.data, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255))
    : image.data;
  return sharp(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { raw: { width, height, channels: image.channels as 3 } })
    .composite([{ input: Buffer.from(overlaySvg(pose, skeleton)), left: 0, top: 0 }])
    .png()
    .toBuffer();
}
