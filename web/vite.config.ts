// Vite build of the admin UI: Preact through esbuild's automatic JSX runtime (no plugin needed),
// output to web/dist, served by the Vexil process itself (src/http/routes/web-ui.ts).
import { defineConfig } from 'vite';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', emptyOutDir: true, sourcemap: false, target: 'es2022' },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/flags': 'http://127.0.0.1:8000' } },
});
