// The committed protobufjs schema is exactly what scripts/gen-onnx-schema.ts makes from the shared onnx.proto3.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { SCHEMA_MODULE, schemaModule } from '../../scripts/gen-onnx-schema.js';
import { haveShared, sharedDir } from '../../scripts/lib/shared.js';

it.runIf(haveShared())('ir/import/onnx/onnx-schema.ts is up to date with onnx.proto3', () => {
  const proto = readFileSync(join(sharedDir()!, 'onnx-node-tests', 'onnx.proto3'), 'utf8');
  expect(readFileSync(SCHEMA_MODULE, 'utf8')).toBe(schemaModule(proto));
});
