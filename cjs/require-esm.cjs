// Shared by the CommonJS entries of 'hourglass' (index.cjs) and 'hourglass/internals' (internals.cjs), an ES-module
// package: where Node can require() an ES module (Node >= 20.19, >= 22.12) an entry is that module; elsewhere
// requiring it fails with a message that says how to import it.
'use strict';

/** The ES module at `path` (relative to this folder), or an error saying how to import `specifier` instead. */
module.exports = function requireEsm(path, specifier) {
  try {
    return require(path);
  } catch (err) {
    if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
      const name = specifier === 'hourglass' ? 'createEstimator' : 'heatmapLoss';
      const error = new Error(`hourglass is an ES module package and this Node cannot require() it: use import { ${name} } from '${specifier}' ` +
        "(in an .mjs or .mts file, or with \"type\": \"module\" in package.json), or from CommonJS " +
        `const { ${name} } = await import('${specifier}')`);
      error.code = err.code;
      throw error;
    }
    throw err;
  }
};
