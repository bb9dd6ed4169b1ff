// kiln's runtime: load a compiled artifact and run it on WebGPU (navigator.gpu in a browser, the `webgpu`
// package in Node). It knows no ops; it executes the manifest's plan.
export { Session, InputValidationError, gpuBuffersAlive, type LoadOptions, type LoadProgress, type InputValue, type OutputTensor, type RunOptions } from './session.js';
export { GenerationError, type GenerateOptions } from './generate.js';
export { SamplingError, type SamplingOptions, argmax, candidateDistribution, checkSampling, sampleToken, seededRandom } from './sampling.js';
export { ArtifactError, openArtifact, type ArtifactFiles } from './files.js';
export { checkManifest } from './manifest-check.js';
export { GpuError } from './errors.js';
export { DeviceLostError } from './device-loss.js';
export { LimitError, PLAN_LIMITS, limitNeeds, type LimitNeed } from './limits.js';
export { DeviceError, acquireDevice, isNode } from './device.js';
export { WaitPacer } from './wait-pacing.js';
export { MANIFEST_VERSION, type Manifest, type IOTensor, type EntryPoint, type GenerationDecl } from './plan.js';
