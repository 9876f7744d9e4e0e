// The CommonJS entry of 'hourglass/internals' (docs/library.md "Two entries"), as cjs/index.cjs is of 'hourglass'.
'use strict';

module.exports = require('./require-esm.cjs')('../dist/src/internals.js', 'hourglass/internals');
