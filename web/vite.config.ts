/// <reference types="vitest/config" />
import { defineConfig } from "vite";

// `npm run dev` serves the inbox with hot reload and sends the API (and its WebSocket) to a
// running CRM: CRM_URL, or the default address of `crm-appservice run`.
const backend = process.env.CRM_URL ?? "http://127.0.0.1:29340";

export default defineConfig({
  oxc: { jsx: { runtime: "automatic" } },
  server: {
    proxy: {
      "/api": { target: backend, ws: true, changeOrigin: true },
      "/healthz": backend,
    },
  },
  build: {
    outDir: "dist",
    assetsDir: "assets",
    sourcemap: false,
    chunkSizeWarningLimit: 600,
  },
  test: {
    environment: "happy-dom",
    include: ["src/**/*.test.ts", "src/**/*.test.tsx"],
  },
});
