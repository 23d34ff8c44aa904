import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// The API serves the built console (console/dist) at `/`; `npm run console:dev` serves it with
// hot reload and sends /api to an API on API_URL (default http://127.0.0.1:3000).
export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // helmet's Content-Security-Policy allows scripts from 'self' only: no inline module preload
    // polyfill (every browser the console supports preloads modules itself).
    modulePreload: { polyfill: false },
    target: 'es2022',
  },
  server: {
    proxy: { '/api': process.env.API_URL ?? 'http://127.0.0.1:3000' },
  },
});
