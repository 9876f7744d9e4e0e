// Image decoding with sharp: any file sharp reads (JPEG, PNG incl. palette/16-bit/grey/alpha, WebP, ...) becomes
// 3-channel 8-bit RGB, the network's input format (docs/method.md "Data preparation and augmentation": colour is RGB in
// [0, 1]).
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import type { RasterImage } from '../geometry/affine.js';
import { FileFormatError } from '../errors.js';

/** File extensions taken for images when a folder is scanned (predict's samples, the queue's sources). */
export const IMAGE_EXTENSIONS: ReadonlySet<string> = new Set(['.jpg', '.jpeg', '.png', '.webp', '.gif', '.tif', '.tiff', '.avif']);

export interface LoadImageOptions {
  /**
   * Apply the EXIF orientation tag (rotate/mirror the pixels as a viewer shows them). Default false: dataset
   * annotations refer to the stored pixel grid, so datasets must not be re-oriented; use true for user photos.
   */
  readonly autoOrient?: boolean;
  /** Colour that transparent pixels are flattened onto, 0-255 RGB. Default black, like the crop's padding. */
  readonly background?: readonly [number, number, number];
}

/** An RGB image: data is [height * width * 3] uint8, row-major, interleaved. */
export interface RgbImage extends RasterImage {
  readonly data: Uint8Array;
  readonly channels: 3;
}

/** Reads and decodes an image file. Throws FileFormatError naming the file when it is missing or not decodable. */
export async function loadImage(path: string, options: LoadImageOptions = {}): Promise<RgbImage> {
  let buffer: Buffer;
  try {
    buffer = await readFile(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const detail = code === 'ENOENT' ? 'image file not found'
      : code === 'EISDIR' ? 'expected an image file, found a directory'
        : `cannot read image (${(err as Error).message})`;
    throw new FileFormatError(path, detail);
  }
  return decodeImage(buffer, path, options);
}

/**
 * Decodes an encoded image held in memory; `name` (a file name or URL) is what errors report.
 * Grey becomes RGB, alpha is flattened onto `background`, palette and 16-bit images become 8-bit RGB.
 */
export async function decodeImage(buffer: Uint8Array, name: string, options: LoadImageOptions = {}): Promise<RgbImage> {
  if (buffer.byteLength === 0) throw new FileFormatError(name, 'empty file, not an image');
  const [r, g, b] = options.background ?? [0, 0, 0];
  try {
    // failOn 'warning' (sharp's default, made explicit): a truncated or damaged file is an error, not a grey band.
    let pipeline = sharp(buffer, { failOn: 'warning' });
    if (options.autoOrient === true) pipeline = pipeline.rotate();
    const { data, info } = await pipeline
      .flatten({ background: { r, g, b } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3 || data.length !== info.width * info.height * 3) {
      throw new Error(`decoder returned ${info.channels} channels, ${data.length} bytes for ${info.width}x${info.height}`);
    }
    return {
      data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength),
      width: info.width,
      height: info.height,
      channels: 3,
    };
  } catch (err) {
    const message = (err as Error).message.replace(/\s+/g, ' ').trim();
    throw new FileFormatError(name, `not a readable image (${message})`);
  }
}
