import { fileURLToPath } from "node:url";

// Runs from a read-only root filesystem (uid 10001, writable /tmp only): every page is either
// static or rendered per request, and nothing may be written under .next at runtime, so the
// ISR cache stays in memory and images are served as they are (no optimiser cache).
/** @type {import("next").NextConfig} */
const nextConfig = {
  output: "standalone",
  // Trace files from this folder, so the standalone server lands at .next/standalone/server.js
  // whatever lockfiles the repository around it has.
  outputFileTracingRoot: fileURLToPath(new URL(".", import.meta.url)),
  // Traced but never loaded by this server: sharp/libvips (about 20 MB) serve only the image
  // optimiser, which is off; the TypeScript compiler (about 9 MB) only type-checks builds.
  outputFileTracingExcludes: {
    "*": ["node_modules/sharp/**", "node_modules/@img/**", "node_modules/typescript/**"],
  },
  reactStrictMode: true,
  poweredByHeader: false,
  images: { unoptimized: true },
  // `npm run lint` is its own step (CI and the fast suite); the build only type-checks.
  eslint: { ignoreDuringBuilds: true },
  experimental: { isrFlushToDisk: false },
  async headers() {
    return [
      {
        source: "/:path*",
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "same-origin" },
        ],
      },
    ];
  },
};

export default nextConfig;
