// The CommonJS entry of 'hourglass', an ES-module package: where Node can require() an ES module (Node >= 20.19,
// >= 22.12) it is that module; elsewhere require('hourglass') fails with a message that says how to import it.
'use strict';

const HOW = "hourglass is an ES module package and this Node cannot require() it: use import { createEstimator } from 'hourglass' " +
  "(in an .mjs or .mts file, or with \"type\": \"module\" in package.json), or from CommonJS " +
  "const { createEstimator } = await import('hourglass')";

try {
  module.exports = require('../dist/src/index.js');
} catch (err) {
  if (err && (err.code === 'ERR_REQUIRE_ESM' || err.code === 'ERR_REQUIRE_ASYNC_MODULE')) {
    const error = new Error(HOW);
    error.code = err.code;
    throw error;
  }
  throw err;
}
