import { defineConfig } from 'vite';

// The console is a static single-page app: Vite bundles it (Rolldown), Preact renders it. JSX is
// compiled for Preact's automatic runtime (tsconfig.json's jsxImportSource), so no framework plugin
// is needed. `config.json` is not part of the build: the deployment (or `npm start`) writes it beside
// index.html, so one build serves every stack.
export default defineConfig({
  root: import.meta.dirname,
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // One small bundle; the size goal (docs/console.md) is checked by the build's own report.
    chunkSizeWarningLimit: 250,
  },
});
