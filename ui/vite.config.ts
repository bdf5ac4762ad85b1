// The UI is served by the server itself at /ui/ (src/http/ui.cc embeds dist/), under a strict
// Content-Security-Policy: no inline scripts or styles, nothing from another origin, no data:
// URLs (assets are never inlined).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  base: '/ui/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2020',
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
