// The CommonJS entry of 'hourglass', an ES-module package: where Node can require() an ES module (Node >= 20.19,
// >= 22.12) it is that module; elsewhere require('hourglass') fails with a message that says how to import it.
'use strict';

module.exports = require('./require-esm.cjs')('../dist/src/index.js', 'hourglass');
