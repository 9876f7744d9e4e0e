// What a TF.js export folder is made of, shared by the writer (src/export/tfjs.ts, Node) and the browser reader
// (src/browser.ts), so both name the same files and format. No imports: safe in a browser bundle.

/** File names an export writes into its folder (nothing else there is touched). */
export const TFJS_FILES = { model: 'model.json', weights: 'weights.bin', info: 'hourglass.json' } as const;

/** The `format` field of hourglass.json. */
export const TFJS_INFO_FORMAT = 'hourglass-tfjs';
