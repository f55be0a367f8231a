import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// `vscode` exists only inside the editor: unit tests get a small stub (test/stubs/vscode.ts).
export default defineConfig({
  resolve: {
    alias: { vscode: fileURLToPath(new URL('./test/stubs/vscode.ts', import.meta.url)) },
  },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 10_000,
    hookTimeout: 120_000,
    reporters: ['verbose'],
  },
});
