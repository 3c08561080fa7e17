#!/usr/bin/env node
// Launcher for the `vexil` command: registers tsx, then runs src/cli/main.ts.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
