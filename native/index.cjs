'use strict';
// The compiled addon, or the reason it is not there (aiolo then uses node:dgram).
module.exports = require('./build/Release/aiolo_native.node');
