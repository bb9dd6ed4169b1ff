// Importing this module registers every op definition (each family file calls registerOp at load).
import './matmul.js';
import './conv.js';
import './pool.js';
import './elementwise.js';
import './reduce.js';
import './normalize.js';
import './reshape.js';
import './movement.js';
import './slice.js';
