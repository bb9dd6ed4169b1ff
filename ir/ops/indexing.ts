// Registers the indexing ops: gathers and scatters by index tensors, TensorScatter, OneHot, TopK and
// ReverseSequence (shared helpers in index-util.ts).
import './gather-elements.js';
import './scatter.js';
import './onehot.js';
import './topk.js';
import './reverse-sequence.js';
