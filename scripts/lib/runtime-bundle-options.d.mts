// Types of runtime-bundle-options.mjs, for the TypeScript tests that import it.
import type { BuildOptions } from 'esbuild';

export declare const REPO_ROOT: string;
export declare const RUNTIME_BUNDLE_OPTIONS: Readonly<BuildOptions>;
export declare const RUNTIME_BUNDLE_BUDGET: number;
