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
import './trilu.js';
import './cumsum.js';
import './einsum.js';
import './resize.js';
import './conv-transpose.js';
import './quantize.js';
import './decode.js';
import './materialize.js';
