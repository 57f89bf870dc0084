// Worker entry: Node cannot start a .ts file as a worker, so this plain module
// registers tsx's loader first, then runs the TypeScript worker body.
import { register } from 'tsx/esm/api';

register();
await import('./worker.ts');
