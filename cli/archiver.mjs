#!/usr/bin/env node
// The `archiver` bin: runs the TypeScript entry point through tsx's loader, as `npm start` does.
import { register } from 'tsx/esm/api';

register();
await import('./main.ts');
