// fast-check arbitraries shared by the IR and pass property tests and the .kir fuzz target.
//   arbKirGraph():     structurally valid graphs exercising every .kir feature (never interpreted).
//   arbGraphCase(...): valid, typed graphs built through GraphBuilder, with concrete inputs for the interpreter.
export { arbKirGraph } from './arbitraries/kir.js';
export { type GraphCase, type GraphCaseOptions, type GraphCaseRecipe, arbGraphCase, buildCase } from './arbitraries/graph-case.js';
export { OP_MENU } from './arbitraries/op-menu.js';
